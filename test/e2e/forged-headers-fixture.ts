// Shared setup of the forged-header tests: the route kinds, the edge config with every kind, claim texts.
import { createHash, X509Certificate } from 'node:crypto';
import { type JSONWebKeySet } from 'jose';
import { claimHeaderName, JWT_CLAIMS } from '../../control-plane/src/config/resolve.js';
import { type RunningEdge } from '../support/edge.js';
import { type Protocol } from '../support/header-clients.js';
import { HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { type TestUpstream } from '../support/upstream.js';

export const SERVER = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n';
/** jwt_claims_headers names outside x-pomerium-*: only the edge may set them too. */
export const CUSTOM_CLAIM_HEADERS: Array<[string, string]> = [
  ['X-User-Email', 'email'],
  ['X-Cert-Fingerprint', 'fingerprint'],
];
export const SET_HEADERS: Array<[string, string]> = [
  ['X-Client-Fingerprint', '${pomerium.client_cert_fingerprint}'],
  ['X-Client-Note', 'set by the edge'],
];
export const KINDS = ['public', 'rbac', 'ext-authz', 'identity', 'set-headers'] as const;
export type Kind = (typeof KINDS)[number];
export const PROTOCOLS: Protocol[] = ['HTTP/1.1', 'HTTP/2'];

export const fingerprintOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
export const spkiHashOf = (pem: string) =>
  createHash('sha256')
    .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');

/**
 * Two edges: `named-claims` gives jwt_claims_headers as a map (every X-Pomerium-Claim-* name and names of its
 * own) and leaves x-forwarded-client-cert to be removed; `xfcc` lists the claims (Pomerium's names) and has
 * Envoy set x-forwarded-client-cert from the verified certificate. Both serve one host, under enforcement
 * `policy` (public routes admit requests without a valid certificate), with one route of each kind.
 */
export type Variant = 'named-claims' | 'xfcc';

/** `added`: names given to more claims (named-claims only), by a hot reload. */
export function claimHeadersOf(variant: Variant, added: Array<[string, string]> = []): Array<[string, string]> {
  const pomerium = JWT_CLAIMS.map((c): [string, string] => [claimHeaderName(c), c]);
  return variant === 'named-claims' ? [...pomerium, ...CUSTOM_CLAIM_HEADERS, ...added] : pomerium;
}

export function configYaml(
  variant: Variant,
  up: TestUpstream,
  allowedSpki: string,
  added: Array<[string, string]> = [],
): string {
  const claims =
    variant === 'named-claims'
      ? `jwt_claims_headers:\n${claimHeadersOf(variant, added)
          .map(([h, c]) => `  ${h}: ${c}\n`)
          .join('')}`
      : `jwt_claims_headers: ${JWT_CLAIMS.join(',')}\nforward_client_cert: [subject, uri, dns]\n`;
  const route = (kind: Kind, rest: string) =>
    `  - from: https://${HOSTS.x}\n    to: ${up.url}\n    prefix: /${kind}/\n${rest}`;
  const allow = (criterion: string) => `    policy:\n      - allow:\n          or:\n            - ${criterion}\n`;
  return (
    `${SERVER}downstream_mtls:\n  ca_file: ca-a.pem\n  enforcement: policy\n${claims}routes:\n` +
    route('public', '    allow_public_unauthenticated_access: true\n') +
    route('rbac', allow('email: { ends_with: "@example.com" }')) +
    route('ext-authz', allow(`client_certificate: { spki_hash: "${allowedSpki}" }`)) +
    route('identity', '    allow_any_authenticated_user: true\n    pass_identity_headers: true\n') +
    route(
      'set-headers',
      '    allow_any_authenticated_user: true\n    set_request_headers:\n' +
        SET_HEADERS.map(([h, v]) => `      ${h}: "${v}"\n`).join(''),
    )
  );
}

export interface Ctx {
  pki: TestPki;
  /** CA A: CN alice, two email SANs, a DNS, a URI and a UPN SAN: every SAN claim has a value. */
  alice: ClientCert;
  /** CA A, no email at all: the email policy refuses it unless a forged header speaks for it. */
  dan: ClientCert;
  up: TestUpstream;
  edge: RunningEdge;
  jwks: JSONWebKeySet;
  requests: number;
  /** Claim headers a hot reload added. */
  added: Array<[string, string]>;
}

/** A claim's text in a header, as an upstream reading the JWT would expect it: lists joined with commas. */
export function claimText(value: unknown): string[] {
  if (value === undefined) return [];
  return [Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : JSON.stringify(value)];
}
