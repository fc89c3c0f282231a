import * as grpc from '@grpc/grpc-js';
import { loadServiceDefinitions } from '../envoy-api/index.js';
import {
  CHECK_ALLOWED_METADATA_KEY,
  CHECK_CACHE_METADATA_KEY,
  SESSION_METADATA_NAMESPACE,
  SESSION_PAYLOAD_KEY,
} from '../policy/index.js';

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
    /** The dynamic metadata of the namespaces the filter names (metadata_context_namespaces): the session's. */
    metadata_context?: { filter_metadata?: Record<string, ReceivedStruct> } | null;
  } | null;
}

/** google.protobuf.Struct and Value as proto-loader encodes them (keepCase, oneofs by field name). */
interface WireStruct {
  fields: Record<string, WireValue>;
}
type WireValue =
  { bool_value: boolean } | { number_value: number } | { string_value: string } | { struct_value: WireStruct };

/**
 * The same as proto-loader decodes them: a value also carries `kind` (oneofs: true), and an empty struct or list
 * may come without `fields` or `values` (defaults: false).
 */
interface ReceivedStruct {
  fields?: Record<string, ReceivedValue> | null;
}
interface ReceivedValue {
  string_value?: string;
  number_value?: number;
  bool_value?: boolean;
  struct_value?: ReceivedStruct | null;
  list_value?: { values?: ReceivedValue[] | null } | null;
  null_value?: string | number;
}

/**
 * The payload of the signed-in user's ID token, as Envoy's session-token filter validated it and the ext_authz
 * filter sent it (translate/http-filters/session-token.ts, ext-authz.ts); undefined when the request carries none.
 */
export function sessionPayload(request: CheckRequest): Record<string, unknown> | undefined {
  const namespace = request.attributes?.metadata_context?.filter_metadata?.[SESSION_METADATA_NAMESPACE];
  const value = namespace?.fields?.[SESSION_PAYLOAD_KEY]?.struct_value;
  return value ? structObject(value) : undefined;
}

/**
 * A Struct as the JSON object it stands for. Own properties only, whatever their names (Object.fromEntries: a claim
 * named `__proto__` is a claim, not the object's prototype).
 */
export function structObject(struct: ReceivedStruct): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct.fields ?? {}).map(([k, v]) => [k, valueOf(v)]));
}

/** A Value as JSON: the member that is set (an unset Value, which a well-formed sender never sends, is null). */
function valueOf(value: ReceivedValue | null | undefined): unknown {
  if (!value) return null;
  if (value.string_value !== undefined) return value.string_value;
  if (value.number_value !== undefined) return value.number_value;
  if (value.bool_value !== undefined) return value.bool_value;
  if (value.struct_value) return structObject(value.struct_value);
  if (value.list_value) return (value.list_value.values ?? []).map(valueOf);
  return null;
}

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
