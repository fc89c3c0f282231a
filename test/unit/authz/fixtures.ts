import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type {
  PolicyClause,
  PolicyCriterion,
  RoutePolicy,
  StringMatcher,
} from '../../../control-plane/src/config/index.js';
import type { AuthorizationRoute, AuthorizationTable, CheckRequest } from '../../../control-plane/src/authz/index.js';
import { AssertionSigner, signingKeyFromPem, type SigningKey } from '../../../control-plane/src/identity/index.js';
import type { ClientTrust } from '../../../control-plane/src/identity/verify-certificate.js';
import {
  createRootCa,
  issueClientCertificate,
  type CertificateAuthority,
} from '../../../control-plane/src/pki/index.js';

export const at = { file: 'config.yaml', line: 1, key: 'routes[0].policy' };

export interface ClientCertificate {
  pem: string;
  /** As Envoy sends it in attributes.source.certificate. */
  encoded: string;
  /** Lower-case hex SHA-256 of the DER. */
  fingerprint: string;
}

export interface AuthzPki {
  ca: CertificateAuthority;
  /** What the fixture routes trust: the CA above, depth 1 (route() gives it to every route). */
  trust: ClientTrust;
  alice: ClientCertificate;
  bob: ClientCertificate;
  /** A certificate with a CN only. */
  device: ClientCertificate;
}

let fixtureTrust: ClientTrust | undefined;

export function client(pem: string): ClientCertificate {
  return {
    pem,
    encoded: encodeURIComponent(pem),
    fingerprint: new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

export async function createAuthzPki(): Promise<AuthzPki> {
  const ca = await createRootCa({ commonName: 'Authz Test CA' });
  const alice = await issueClientCertificate(ca, { commonName: 'alice', email: 'alice@example.com' });
  const bob = await issueClientCertificate(ca, { commonName: 'bob', email: 'bob@example.org' });
  const device = await issueClientCertificate(ca, { commonName: 'device-7' });
  fixtureTrust = { caPem: ca.certPem, crlPem: '', maxVerifyDepth: 1, matchSubjectAltNames: [] };
  return {
    ca,
    trust: fixtureTrust,
    alice: client(alice.certPem),
    bob: client(bob.certPem),
    device: client(device.certPem),
  };
}

export function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

export async function newSigner(key?: SigningKey): Promise<AssertionSigner> {
  return new AssertionSigner(key ?? (await newSigningKey()));
}

export const is = (value: string): StringMatcher => ({ op: 'is', value });
export const criterion = {
  accept: (): PolicyCriterion => ({ kind: 'accept', at }),
  authenticated: (): PolicyCriterion => ({ kind: 'authenticated_user', at }),
  invalidCert: (): PolicyCriterion => ({ kind: 'invalid_client_certificate', at }),
  email: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'email', match, at }),
  domain: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'domain', match, at }),
  method: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'http_method', match, at }),
  path: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'http_path', match, at }),
};
export const and = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'and', criteria, at });
export const or = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'or', criteria, at });

/** A route trusting the fixture CA (once createAuthzPki ran); `{ clientTrust: undefined }` for one that trusts none. */
export function route(name: string, policy: RoutePolicy, over: Partial<AuthorizationRoute> = {}): AuthorizationRoute {
  return {
    name,
    audience: `${name}.mtls.test`,
    policy,
    passIdentityHeaders: false,
    claimsHeaders: [],
    clientCaRequired: true,
    clientTrust: fixtureTrust,
    ...over,
  };
}

export function tableOf(...routes: AuthorizationRoute[]): AuthorizationTable {
  return new Map(routes.map((r) => [r.name, r]));
}

export interface RequestOptions {
  route?: string;
  cert?: ClientCertificate;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

/** A CheckRequest as Envoy's ext_authz filter sends it (include_peer_certificate, context_extensions.route). */
export function checkRequest(o: RequestOptions): CheckRequest {
  return {
    attributes: {
      source: { certificate: o.cert?.encoded ?? '', principal: '' },
      request: {
        http: {
          method: o.method ?? 'GET',
          path: o.path ?? '/',
          headers: { ':authority': 'x.mtls.test', ...o.headers },
        },
      },
      context_extensions: o.route === undefined ? {} : { route: o.route },
    },
  };
}

/** A pino logger whose lines land in `lines` (parsed). */
export function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
