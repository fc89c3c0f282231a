import { TEXT, textOrList, type JsonSchema } from '../../source/json-schema.js';
import { ACCESS_LOG_FIELDS, ACCESS_LOG_OFF, HEADER_FIELD } from '../access-log-fields.js';
import { FORWARDED_CERT_FIELDS, JWT_CLAIMS, type TOP_LEVEL_KEYS } from '../resolve.js';
import type { OptionTable } from './option-spec.js';
import { EDGE_SET_CLAIMS } from '../../identity/index.js';
import { IDENTITY_PROVIDER_OPTIONS } from './identity-provider.js';

type TopLevelKey = (typeof TOP_LEVEL_KEYS)[number];

const ADDRESS: JsonSchema = { ...TEXT, description: '`host:port`, or `:port` for every interface' };
// The validator trims a claim's name: the pattern says so, the enum gives editors the names to complete.
// With sign-in, any claim of the ID token may be named too, except those the edge sets in each assertion itself.
const EDGE_ONLY = EDGE_SET_CLAIMS.filter((c) => !JWT_CLAIMS.includes(c));
const CLAIM: JsonSchema = {
  description: `a certificate claim; with sign-in, any claim of the ID token but ${EDGE_ONLY.join(', ')}`,
  anyOf: [
    { enum: JWT_CLAIMS },
    { type: 'string', pattern: `^\\s*(${JWT_CLAIMS.join('|')})\\s*$` },
    { type: 'string', pattern: `^\\s*(?!(?:${EDGE_SET_CLAIMS.join('|')})\\s*$)[!-~\\u00a0-\\uffff]+\\s*$` },
  ],
};
// The validator trims a field's name too.
const LOG_FIELD_NAMES = `${Object.keys(ACCESS_LOG_FIELDS).join('|')}|${HEADER_FIELD.source.replace(/^\^|\$$/g, '')}`;
const LOG_FIELD: JsonSchema = {
  anyOf: [{ enum: Object.keys(ACCESS_LOG_FIELDS) }, { type: 'string', pattern: `^\\s*(${LOG_FIELD_NAMES})\\s*$` }],
};
const base64Of = (file: string): string => `the same as \`${file}\`, as base64 PEM (raw PEM accepted too)`;

/** The top-level options (config/resolve.ts reads them; the nested ones have tables of their own). */
export const TOP_LEVEL_OPTIONS: OptionTable<TopLevelKey> = {
  ...IDENTITY_PROVIDER_OPTIONS,
  address: { schema: ADDRESS, summary: 'the HTTPS listen address', default: '`:443`' },
  public_https_port: {
    schema: {
      anyOf: [
        { type: 'integer', minimum: 1, maximum: 65535 },
        { type: 'string', pattern: '^[0-9]{1,5}$' },
      ],
    },
    summary:
      "the port browsers reach the edge on, when a load balancer in front listens on another than `address`'s " +
      '(443 in front of 8443, say): sign-in names it in the URLs back to the edge',
    default: "`address`'s port",
  },
  certificate_file: {
    schema: TEXT,
    summary: 'the server certificate, a PEM file (leaf first, then intermediates)',
  },
  certificate_key_file: { schema: TEXT, summary: "the server certificate's private key, a PEM file" },
  certificate: { schema: TEXT, summary: base64Of('certificate_file') },
  certificate_key: { schema: TEXT, summary: base64Of('certificate_key_file') },
  certificates: {
    schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: { cert: TEXT, key: TEXT },
        required: ['cert', 'key'],
        additionalProperties: false,
      },
    },
    summary: 'more server certificates, each `{cert, key}` (PEM files); Envoy picks one by SNI',
  },
  client_ca_file: {
    schema: TEXT,
    summary:
      "the client CA every route requires certificates from, unless the route has its own (Pomerium's older name " +
      'for `downstream_mtls.ca_file`)',
    default: 'none: no client certificate',
  },
  client_ca: { schema: TEXT, summary: base64Of('client_ca_file') },
  downstream_mtls: {
    schema: { $ref: '#/$defs/downstream_mtls' },
    summary: 'the client-certificate gate: its CA, CRLs, enforcement and limits (the keys are listed below)',
    env: 'DOWNSTREAM_MTLS_<KEY>',
  },
  forward_client_cert: {
    schema: textOrList({ enum: FORWARDED_CERT_FIELDS }),
    summary:
      'fields of the verified certificate sent upstream in `x-forwarded-client-cert` ' +
      `(${FORWARDED_CERT_FIELDS.join(', ')})`,
    default: 'none: the header is removed',
  },
  certificate_authority_file: {
    schema: TEXT,
    summary: 'a CA added to the system roots for verifying https upstreams, a PEM file',
    default: 'system roots only',
  },
  certificate_authority: { schema: TEXT, summary: base64Of('certificate_authority_file') },
  admin_address: {
    schema: ADDRESS,
    summary: "the control plane's admin API (`/healthz`, `/readyz`, `/synced`, `/status`, `/metrics`)",
    default: '`127.0.0.1:9902`',
  },
  xds_address: {
    schema: ADDRESS,
    summary:
      "the control channel (xDS and ext_authz) that Envoys run on their own connect to; `run`'s own Envoy " +
      'uses a private socket',
    default: '`127.0.0.1:18000`',
  },
  xds_certificate_file: {
    schema: TEXT,
    summary: "the control plane's certificate on `xds_address` ([Security](security.md))",
  },
  xds_certificate: { schema: TEXT, summary: base64Of('xds_certificate_file') },
  xds_certificate_key_file: { schema: TEXT, summary: "that certificate's private key" },
  xds_certificate_key: { schema: TEXT, summary: base64Of('xds_certificate_key_file') },
  xds_client_ca_file: {
    schema: TEXT,
    summary: 'the CA whose certificates Envoys must present (`mtls-edge certs control-plane` makes one)',
  },
  xds_client_ca: { schema: TEXT, summary: base64Of('xds_client_ca_file') },
  xds_node_ids: {
    schema: textOrList(),
    summary: "node ids a fleet certificate may use; when set, every Envoy's node id must be one of them",
    default: 'any',
  },
  envoy_admin_address: {
    schema: ADDRESS,
    summary: "Envoy's admin interface (in the bootstrap `run` and `bootstrap` write)",
    default: '`127.0.0.1:9901`',
  },
  envoy_health_address: {
    schema: ADDRESS,
    summary: "each Envoy's health listener: `GET /healthz` is 200 while it serves, 503 once it is stopping",
    default: 'off',
  },
  metrics_address: {
    schema: ADDRESS,
    summary: "each Envoy's metrics listener: `GET /metrics` is Envoy's stats in Prometheus format",
    default: 'off',
  },
  signing_key_file: {
    schema: TEXT,
    summary: 'P-256 private keys (PEM): the first signs identity JWTs, all are in the JWKS',
    default: 'generated and kept on disk; required with `--no-envoy`',
  },
  signing_key: { schema: TEXT, summary: 'the same as `signing_key_file`, as base64 of the PEM text' },
  jwt_claims_headers: {
    schema: {
      anyOf: [
        { type: 'object', additionalProperties: CLAIM },
        { type: 'array', items: CLAIM },
        { type: 'string', minLength: 1 },
      ],
    },
    summary:
      'claims sent as headers on routes with `pass_identity_headers`: a list of claims, `a,b`, or a mapping of ' +
      `header name to claim (claims: ${JWT_CLAIMS.join(', ')})`,
    default: 'none',
  },
  access_log_fields: {
    schema: {
      anyOf: [
        { type: 'array', items: LOG_FIELD },
        { type: 'string', minLength: 1 },
      ],
    },
    summary: `the fields of each access log line (a list, \`a,b\`, or \`${ACCESS_LOG_OFF}\` for no access log)`,
    default: 'see [Operations](operations.md#access-logs)',
  },
  routes: {
    schema: { type: 'array', items: { $ref: '#/$defs/route' } },
    summary: 'the routes (their keys are listed below); `ROUTES` takes YAML or JSON, plain or base64',
    default: 'required (in the file or `ROUTES`)',
  },
};
