import { TEXT } from '../../source/json-schema.js';
import { DOWNSTREAM_MTLS_ENV_KEYS, DOWNSTREAM_MTLS_KEYS, ENFORCEMENTS, SAN_TYPES } from '../downstream-mtls.js';
import type { OptionTable } from './option-spec.js';

type DownstreamMtlsKey = (typeof DOWNSTREAM_MTLS_KEYS)[number];

const sanEntries = Object.fromEntries(SAN_TYPES.map((t) => [t, { ...TEXT, description: 'a regular expression' }]));

/** `downstream_mtls`: the client-certificate gate (config/downstream-mtls.ts reads it). */
export const DOWNSTREAM_MTLS_OPTIONS: OptionTable<DownstreamMtlsKey> = {
  ca: { schema: TEXT, summary: 'the client CA bundle as base64 PEM (raw PEM accepted too)' },
  ca_file: {
    schema: TEXT,
    summary: 'the client CA bundle, a PEM file: every route requires a client certificate it issued',
    default: 'none: no client certificate',
  },
  crl: { schema: TEXT, summary: 'certificate revocation lists as base64 PEM (raw PEM accepted too)' },
  crl_file: { schema: TEXT, summary: 'certificate revocation lists, a PEM file; revoked certificates are refused' },
  enforcement: {
    schema: { enum: ENFORCEMENTS },
    summary:
      '`policy_with_default_deny`: a route admits no one its policy does not name; `policy`: routes decide; ' +
      '`reject_connection`: the handshake itself fails without a valid certificate',
    default: '`policy_with_default_deny` (`reject_connection` with `client_ca`)',
  },
  match_subject_alt_names: {
    schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: sanEntries,
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
      },
    },
    summary: `client certificates must carry a SAN matching one of these (each: one of ${SAN_TYPES.join(', ')})`,
    default: 'any',
  },
  max_verify_depth: {
    schema: {
      anyOf: [
        { type: 'integer', minimum: 0, maximum: 100 },
        { type: 'string', pattern: '^\\s*[0-9]+\\s*$' },
      ],
    },
    summary: 'how many intermediates may stand between a client certificate and the CA (`0`: no limit)',
    default: '`1`',
  },
};

/** The environment variable of a `downstream_mtls` key, if Pomerium reads one. */
export function downstreamMtlsEnv(key: DownstreamMtlsKey): string | undefined {
  return (DOWNSTREAM_MTLS_ENV_KEYS as readonly string[]).includes(key)
    ? `DOWNSTREAM_MTLS_${key.toUpperCase()}`
    : undefined;
}
