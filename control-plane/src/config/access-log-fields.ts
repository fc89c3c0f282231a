import type { Diagnostics } from '../source/diagnostics.js';
import { describeKind } from '../source/source.js';
import type { MapValue } from '../source/fields.js';
import { INTERNAL_HEADER_PREFIX } from '../policy/index.js';

/** Where the edge records why it refused a request (Lua filters, route metadata): the `reason` field reads it. */
export const EDGE_METADATA_NAMESPACE = 'mtls_edge';

const NS = EDGE_METADATA_NAMESPACE;

/**
 * The log line every part of the edge writes (runtime/logger.ts): Envoy writes each access log entry in it whole,
 * so that `run` passes those lines on without parsing them. `level` is pino's number for info.
 */
export const LOG_SERVICE = 'mtls-edge';
export const INFO_LEVEL = 30;
export const ACCESS_LOG_MESSAGE = 'http-request';

/** The filter state that keeps the :authority the client sent (translate/http-filters/request-authority.ts). */
export const REQUEST_AUTHORITY_STATE = `${NS}.authority`;
/** `map[key]` when the key is there, else `otherwise` (CEL errors on a missing key). */
const fromMap = (map: string, key: string, otherwise: string): string =>
  `('${NS}' in ${map} && '${key}' in ${map}['${NS}'] ? ${map}['${NS}']['${key}'] : ${otherwise})`;

/**
 * Why the edge answered 4xx/5xx itself: the reason the edge recorded where it refused (the certificate check,
 * ext_authz, its own direct answers such as 421), else Envoy's response code details
 * (`rbac_access_denied_matched_policy[deny-rule-1]`, `via_upstream` for the upstream's own errors). Null for every
 * other response: the access log formats entries below 400 apart, without this CEL (ERROR_ONLY_FIELDS), so that a
 * request served costs no CEL evaluation (about 6 µs of Envoy's CPU each, issue 14).
 */
const REASON =
  '%CEL(' +
  fromMap(
    'metadata.filter_metadata',
    'reason',
    fromMap('xds.route_metadata.filter_metadata', 'reason', 'response.code_details'),
  ) +
  ')%';

/**
 * Every access log field: its name (Pomerium's `access_log_fields` names where they mean the same, ours for the
 * rest) → the Envoy command operator that fills it. A new field is one entry here.
 */
export const ACCESS_LOG_FIELDS = {
  time: '%START_TIME%',
  'request-id': '%REQ(X-REQUEST-ID)%',
  // As the client sent it: the router rewrites :authority to the upstream's host (translate/http-filters/).
  authority: `%FILTER_STATE(${REQUEST_AUTHORITY_STATE}:PLAIN)%`,
  method: '%REQ(:METHOD)%',
  // The path as the client sent it (before a prefix rewrite), without the query.
  path: '%PATH(NQ)%',
  query: '%CEL(request.query)%',
  'protocol-version': '%PROTOCOL%',
  'user-agent': '%REQ(USER-AGENT)%',
  referer: '%REQ(REFERER)%',
  'forwarded-for': '%REQ(X-FORWARDED-FOR)%',
  ip: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
  'dest-ip': '%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%',
  'dest-port': '%DOWNSTREAM_LOCAL_PORT%',
  'response-code': '%RESPONSE_CODE%',
  'response-code-details': '%RESPONSE_CODE_DETAILS%',
  'response-flags': '%RESPONSE_FLAGS%',
  reason: REASON,
  duration: '%DURATION%',
  'bytes-received': '%BYTES_RECEIVED%',
  'bytes-sent': '%BYTES_SENT%',
  // Pomerium's name for the response body's size.
  size: '%BYTES_SENT%',
  // `route-N` (the Nth entry of `routes`, from 0), or the edge's own: misdirected, edge-health, jwks.
  route: '%ROUTE_NAME%',
  'upstream-cluster': '%UPSTREAM_CLUSTER%',
  'upstream-host': '%UPSTREAM_HOST%',
  'upstream-transport-failure-reason': '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  'downstream-transport-failure-reason': '%DOWNSTREAM_TRANSPORT_FAILURE_REASON%',
  'tls-version': '%DOWNSTREAM_TLS_VERSION%',
  'tls-sni-hostname': '%REQUESTED_SERVER_NAME%',
  'tls-cipher-suite': '%DOWNSTREAM_TLS_CIPHER%',
  'client-certificate-fingerprint': '%DOWNSTREAM_PEER_FINGERPRINT_256%',
  'client-certificate-subject': '%DOWNSTREAM_PEER_SUBJECT%',
  'client-certificate-issuer': '%DOWNSTREAM_PEER_ISSUER%',
  'client-certificate-serial': '%DOWNSTREAM_PEER_SERIAL%',
} as const satisfies Record<string, string>;

export type AccessLogFieldName = keyof typeof ACCESS_LOG_FIELDS;

/** The fields logged unless `access_log_fields` says otherwise. */
export const DEFAULT_ACCESS_LOG_FIELDS: readonly AccessLogFieldName[] = [
  'time',
  'request-id',
  'authority',
  'method',
  'path',
  'user-agent',
  'response-code',
  'response-flags',
  'reason',
  'duration',
  'bytes-received',
  'bytes-sent',
  'route',
  'upstream-host',
  'client-certificate-fingerprint',
  'client-certificate-subject',
];

/** Pomerium's `headers.<name>`: a request header. A name of token characters only: it goes into `%REQ(…)%`. */
export const HEADER_FIELD = /^headers\.([A-Za-z0-9][A-Za-z0-9-]*)$/;

/** Fields that are null in the entry of a response below 400 (status 0 too: no response was sent). */
export const ERROR_ONLY_FIELDS: ReadonlySet<string> = new Set<AccessLogFieldName>(['reason']);

/** The Envoy command operator of a field name the config accepted. */
export function accessLogOperator(field: string): string {
  const header = HEADER_FIELD.exec(field);
  if (header) return `%REQ(${header[1]!.toUpperCase()})%`;
  return ACCESS_LOG_FIELDS[field as AccessLogFieldName];
}

export const ACCESS_LOG_OFF = 'off';
const OFF = ACCESS_LOG_OFF;

/**
 * `access_log_fields` (ACCESS_LOG_FIELDS): a list of field names, or names separated by commas (the environment's
 * form); `off` or an empty list turns access logs off. Absent: the default fields.
 */
export function readAccessLogFields(root: MapValue, diag: Diagnostics, signIn = false): string[] {
  const v = root.entries.get('access_log_fields');
  if (!v) return [...DEFAULT_ACCESS_LOG_FIELDS];
  const given: Array<{ name: string; at: typeof v.at }> = [];
  if (v.kind === 'list') {
    for (const item of v.items) {
      if (item.kind === 'scalar' && typeof item.value === 'string')
        given.push({ name: item.value.trim(), at: item.at });
      else diag.error(item.at, `expected a field name, got ${describeKind(item)}`);
    }
  } else if (v.kind === 'scalar' && typeof v.value === 'string') {
    if (v.value.trim() === OFF) return [];
    for (const name of v.value.split(',')) given.push({ name: name.trim(), at: v.at });
  } else {
    diag.error(v.at, `expected a list of field names, names separated by commas, or "${OFF}"; got ${describeKind(v)}`);
    return [];
  }
  const out: string[] = [];
  for (const g of given) {
    if (!(Object.hasOwn(ACCESS_LOG_FIELDS, g.name) || HEADER_FIELD.test(g.name))) {
      diag.error(
        g.at,
        `unknown access log field ${JSON.stringify(g.name)}: the fields are ` +
          `${Object.keys(ACCESS_LOG_FIELDS).join(', ')}, headers.<header name>, or "${OFF}" to log nothing`,
      );
    } else if (signIn && sessionHeader(g.name)) {
      diag.error(
        g.at,
        `access log field ${g.name} could log the sign-in session: Envoy logs the request as its filters left it, ` +
          "and a refused request's Cookie header and the edge's internal headers may hold the ID token, decrypted. " +
          'Leave it out while an identity provider is configured',
      );
    } else if (out.includes(g.name)) diag.error(g.at, `access log field ${g.name} is given twice`);
    else out.push(g.name);
  }
  return out;
}

/** A request header that holds the session: its cookies, or one of the edge's internal headers (the ID token's). */
function sessionHeader(field: string): boolean {
  const name = HEADER_FIELD.exec(field)?.[1]?.toLowerCase();
  return name !== undefined && (name === 'cookie' || name.startsWith(INTERNAL_HEADER_PREFIX));
}
