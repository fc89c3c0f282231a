import * as grpc from '@grpc/grpc-js';
import { loadServiceDefinitions } from '../envoy-api/index.js';
import { CHECK_ALLOWED_METADATA_KEY, CHECK_CACHE_METADATA_KEY } from '../policy/index.js';

// The ext_authz gRPC contract (envoy.service.auth.v3) as the service speaks it: the service definition, the
// parts of the messages it reads and writes, and the deny it sends.

/** google.rpc.Code values the filter looks at. */
const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;

let serviceDefinition: grpc.ServiceDefinition | undefined;

/** envoy.service.auth.v3.Authorization, from the Envoy API the edge loads (envoy-api/load.ts). */
export function loadAuthorizationService(): grpc.ServiceDefinition {
  if (!serviceDefinition) {
    const pkg = grpc.loadPackageDefinition(loadServiceDefinitions()) as unknown as AuthorizationPackage;
    serviceDefinition = pkg.envoy.service.auth.v3.Authorization.service;
  }
  return serviceDefinition;
}

interface AuthorizationPackage {
  envoy: { service: { auth: { v3: { Authorization: { service: grpc.ServiceDefinition } } } } };
}

/** The parts of envoy.service.auth.v3.CheckRequest the service reads (proto-loader, keepCase). */
export interface CheckRequest {
  attributes?: {
    source?: { certificate?: string; principal?: string };
    request?: {
      http?: {
        method?: string;
        path?: string;
        headers?: Record<string, string>;
        /** Sent instead of `headers` when the filter has encode_raw_headers. */
        header_map?: { headers?: Array<{ key?: string; value?: string; raw_value?: Uint8Array }> };
      };
    };
    context_extensions?: Record<string, string>;
  } | null;
}

/** google.protobuf.Struct and Value as proto-loader encodes them (keepCase, oneofs by field name). */
interface WireStruct {
  fields: Record<string, WireValue>;
}
type WireValue =
  { bool_value: boolean } | { number_value: number } | { string_value: string } | { struct_value: WireStruct };

export interface HeaderValueOption {
  header: { key: string; value: string };
  append_action: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

/** envoy.service.auth.v3.CheckResponse as a plain object: exactly one of ok_response and denied_response. */
export interface CheckResponse {
  status: { code: number; message?: string };
  ok_response?: { headers: HeaderValueOption[]; headers_to_remove: string[] };
  /** google.protobuf.Struct: Envoy files it under the ext_authz filter's namespace for the filters after it. */
  dynamic_metadata?: WireStruct;
  /** `code`: Forbidden, or 495 for a certificate that does not verify (Envoy passes any HTTP status on). */
  denied_response?: { status: { code: 'Forbidden' | number }; headers: HeaderValueOption[]; body: string };
}

/**
 * An allow: the request goes on with `headers` set and `remove` removed. It carries the mark that tells Envoy's
 * ext_authz filters this request was decided (translate/http-filters/ext-authz.ts), and, when the decision holds for
 * every request of this certificate on this route, what Envoy's identity cache may keep for `keepSeconds`
 * (translate/http-filters/identity-cache.ts).
 */
export function allowResponse(headers: HeaderValueOption[], remove: string[], keepSeconds?: number): CheckResponse {
  const fields: Record<string, WireValue> = { [CHECK_ALLOWED_METADATA_KEY]: { bool_value: true } };
  if (keepSeconds !== undefined) {
    const set: Record<string, WireValue> = {};
    for (const h of headers) set[h.header.key.toLowerCase()] = { string_value: h.header.value };
    fields[CHECK_CACHE_METADATA_KEY] = {
      struct_value: { fields: { ttl: { number_value: keepSeconds }, headers: { struct_value: { fields: set } } } },
    };
  }
  return {
    status: { code: GRPC_OK },
    ok_response: { headers, headers_to_remove: remove },
    dynamic_metadata: { fields },
  };
}

export function overwrite(key: string, value: string): HeaderValueOption {
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

/** HTTP 495 (SSL Certificate Error), as the edge answers a certificate that is not valid for a route. */
export const CERTIFICATE_ERROR_STATUS = 495;

/** The 403 (or 495) Envoy sends: the reason as one line of plain text, with nothing a browser could take for markup. */
export function denied(reason: string, httpStatus: 'Forbidden' | number = 'Forbidden'): CheckResponse {
  // Envoy pastes this text into the 403 page, HTML or JSON (translate/http-filters/local-reply.ts):
  // no markup, no quotes.
  const body = reason
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/&/g, '+')
    .replace(/"/g, "'")
    .replace(/\\/g, '/');
  return {
    status: { code: GRPC_PERMISSION_DENIED, message: body },
    denied_response: {
      status: { code: httpStatus },
      headers: [overwrite('content-type', 'text/plain; charset=utf-8')],
      body,
    },
  };
}

export function requestHeader(
  http: NonNullable<NonNullable<NonNullable<CheckRequest['attributes']>['request']>['http']>,
  name: string,
): string | undefined {
  const value = http.headers?.[name];
  if (value !== undefined) return value;
  const entry = http.header_map?.headers?.find((h) => h.key?.toLowerCase() === name);
  if (!entry) return undefined;
  return entry.value ?? (entry.raw_value ? Buffer.from(entry.raw_value).toString('utf8') : undefined);
}
