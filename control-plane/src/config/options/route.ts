import { BOOLEAN, TEXT, textOrList } from '../../source/json-schema.js';
import type { ROUTE_KEYS } from '../route.js';
import type { OptionTable } from './option-spec.js';

type RouteKey = (typeof ROUTE_KEYS)[number];

const PATH: typeof TEXT = { type: 'string', pattern: '^/' };

/** A route's keys (config/route.ts reads them). */
export const ROUTE_OPTIONS: OptionTable<RouteKey> = {
  from: {
    schema: TEXT,
    summary:
      '`https://host` (a `*.` first label for wildcards); no path: match paths with `prefix`, `path` or `regex`. ' +
      'A port is accepted and ignored',
    default: 'required',
  },
  to: {
    schema: textOrList(),
    summary:
      'one `http(s)://host[:port][/path]` URL or a list (round-robin; same scheme and path). A path replaces the ' +
      'leading `/` of the request path, as in Pomerium (`to: http://u/base/` and `/x` → `/base/x`)',
    default: 'required',
  },
  prefix: { schema: PATH, summary: 'match requests whose path starts with this', default: '`/`' },
  path: { schema: PATH, summary: 'match this exact path (set one of `prefix`, `path`, `regex`)' },
  regex: {
    schema: TEXT,
    summary: 'match the whole path with this RE2 regular expression (no lookaround or backreferences)',
  },
  prefix_rewrite: { schema: TEXT, summary: 'replaces the matched prefix (or path) before the request goes upstream' },
  preserve_host_header: {
    schema: BOOLEAN,
    summary: "send the client's Host to the upstream instead of the `to` host",
    default: '`false`',
  },
  set_request_headers: {
    schema: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    summary:
      'headers set (overwritten) on the upstream request (not Host or pseudo-headers); values take ' +
      '`${pomerium.client_cert_fingerprint}` and ' +
      'the other substitutions of [Policies and identity](policies.md)',
  },
  remove_request_headers: { schema: textOrList(), summary: 'headers removed from the upstream request' },
  timeout: {
    schema: TEXT,
    summary: 'upstream response timeout, a Go duration (`30s`, `1m30s`); `0` disables it',
    default: '`30s`',
  },
  tls_skip_verify: { schema: BOOLEAN, summary: 'https upstreams: accept any certificate', default: '`false`' },
  tls_upstream_server_name: {
    schema: TEXT,
    summary: 'https upstreams: the SNI and the name the certificate must carry',
    default: 'the `to` host',
  },
  tls_server_name: {
    schema: TEXT,
    summary: 'the older name of `tls_upstream_server_name` (setting both is an error)',
  },
  tls_custom_ca: { schema: TEXT, summary: 'the same as `tls_custom_ca_file`, as base64 PEM' },
  tls_custom_ca_file: {
    schema: TEXT,
    summary: 'https upstreams: the CA to verify the upstream with, instead of the system roots',
    default: 'system roots and `certificate_authority`',
  },
  tls_client_cert_file: {
    schema: TEXT,
    summary:
      'https upstreams: the client certificate the edge presents when the upstream asks for one (PEM file, leaf ' +
      'first; its extended key usage, if any, must include clientAuth); replacing the file rotates it',
    default: 'none',
  },
  tls_client_key_file: { schema: TEXT, summary: "that certificate's private key, a PEM file" },
  tls_client_cert: {
    schema: TEXT,
    summary: 'the same as `tls_client_cert_file`, as base64 PEM (raw PEM accepted too)',
  },
  tls_client_key: { schema: TEXT, summary: 'the same as `tls_client_key_file`, as base64 PEM (raw PEM accepted too)' },
  tls_upstream_allow_renegotiation: {
    schema: BOOLEAN,
    summary: 'https upstreams: let the upstream start a TLS renegotiation (TLS 1.2 and older)',
    default: '`false`',
  },
  tls_downstream_client_ca: { schema: TEXT, summary: 'the same as `tls_downstream_client_ca_file`, as base64 PEM' },
  tls_downstream_client_ca_file: {
    schema: TEXT,
    summary: "this route's own client CA (PEM file); replaces the global one for the route's host",
  },
  allow_public_unauthenticated_access: {
    schema: BOOLEAN,
    summary: "anyone who passes the host's TLS requirement may use the route",
    default: '`false`',
  },
  allow_any_authenticated_user: {
    schema: BOOLEAN,
    summary: 'anyone with a valid client certificate (an error on a route with no client CA)',
    default: '`false`',
  },
  policy: {
    schema: { $ref: '#/$defs/policy' },
    summary: 'who may use the route, in Pomerium Policy Language ([Policies and identity](policies.md))',
  },
  pass_identity_headers: {
    schema: BOOLEAN,
    summary: 'send the upstream `X-Pomerium-Jwt-Assertion` and the `jwt_claims_headers`',
    default: '`false`',
  },
};
