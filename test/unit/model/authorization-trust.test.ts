import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { crlIssuerName } from '../../../control-plane/src/certificates/index.js';
import type { CertificateBundle, Config, RouteConfig } from '../../../control-plane/src/config/index.js';
import { clientTrustId } from '../../../control-plane/src/identity/verify-certificate.js';
import { buildEdgeModel, type EdgeModel } from '../../../control-plane/src/model/index.js';
import { createCrl, createRootCa, type CertificateAuthority } from '../../../control-plane/src/pki/index.js';
import { edgeConfig, routeConfig } from './config-fixtures.js';

let caA: CertificateAuthority;
let caB: CertificateAuthority;
const bundle = (ca: CertificateAuthority, origin: string): CertificateBundle => ({
  pem: ca.certPem,
  fingerprints: [new X509Certificate(ca.certPem).fingerprint256],
  origin,
});
before(async () => {
  caA = await createRootCa({ commonName: 'Model CA A' });
  caB = await createRootCa({ commonName: 'Model CA B' });
});

function route(host: string, index: number, extra: Partial<RouteConfig> = {}): RouteConfig {
  return routeConfig(host, index, {
    match: { kind: 'prefix', value: `/r${index}` },
    passIdentityHeaders: true,
    ...extra,
  });
}

function config(
  routes: RouteConfig[],
  extra: Partial<Config> = {},
  rules: Partial<Config['clientCertificateRules']> = {},
): Config {
  return edgeConfig(routes, {
    clientCertificateRules: {
      enforcement: 'policy_with_default_deny',
      maxVerifyDepth: 1,
      crls: [],
      matchSubjectAltNames: [],
      ...rules,
    },
    ...extra,
  });
}

function model(c: Config): EdgeModel {
  const m = buildEdgeModel(c);
  if (!m.ok) throw new Error(JSON.stringify(m.errors));
  return m.value;
}

const authorization = (m: EdgeModel, index: number) =>
  m.classes.flatMap((c) => c.hosts.flatMap((h) => h.routes)).find((r) => r.name === `route-${index}`)!.authorization;
const extAuthz = (m: EdgeModel, index: number) =>
  m.authorizationRoutes.find((r) => r.name.startsWith(`route-${index}.`))!;

describe('the trust of an ext_authz route', () => {
  it('is the global CA with the downstream_mtls rules, or the route CA that replaces it; none without a CA', () => {
    const sans = [{ type: 'email' as const, regex: '.*@example\\.com' }];
    const m = model(
      config(
        [route('a.test', 0), route('b.test', 1, { clientCa: bundle(caB, 'b.pem') })],
        { clientCa: bundle(caA, 'a.pem') },
        { maxVerifyDepth: 2, matchSubjectAltNames: sans },
      ),
    );
    assert.deepEqual(extAuthz(m, 0).clientTrust, {
      caPem: caA.certPem,
      crlPem: '',
      maxVerifyDepth: 2,
      matchSubjectAltNames: sans,
    });
    assert.equal(extAuthz(m, 1).clientTrust?.caPem, caB.certPem);
    // Depth 2: intermediates may stand between leaf and CA, and Envoy sends the service only the leaf.
    assert.deepEqual(authorization(m, 0), { kind: 'ext-authz', key: extAuthz(m, 0).name, peerProperties: ['chain'] });
    const none = model(config([route('c.test', 0)]));
    assert.equal(extAuthz(none, 0).clientTrust, undefined);
    assert.deepEqual(authorization(none, 0), { kind: 'ext-authz', key: extAuthz(none, 0).name, peerProperties: [] });
  });

  it('on a host whose routes trust different CAs: the own CA, issued directly; none for a route without a CA', () => {
    const m = model(
      config(
        [
          route('s.test', 0, { clientCa: bundle(caA, 'a.pem') }),
          route('s.test', 1, { clientCa: bundle(caB, 'b.pem') }),
          route('s.test', 2),
        ],
        {},
        { maxVerifyDepth: 3 },
      ),
    );
    const [a, b, open] = [0, 1, 2].map((i) => extAuthz(m, i).clientTrust);
    assert.deepEqual(a, {
      caPem: caA.certPem,
      crlPem: '',
      maxVerifyDepth: 1,
      matchSubjectAltNames: [],
      directIssuerOnly: true,
    });
    assert.equal(b?.caPem, caB.certPem);
    assert.equal(open, undefined);
    assert.deepEqual(authorization(m, 0), { kind: 'ext-authz', key: extAuthz(m, 0).name, peerProperties: [] });
  });

  it('of one CA, is its own on a shared host and on a plain host, whichever comes first', () => {
    // The global CA is one object for every route: what is derived from it is shared, but per kind of host.
    const global = bundle(caA, 'a.pem');
    const shared = [route('s.test', 0), route('s.test', 1, { clientCa: bundle(caB, 'b.pem') })];
    for (const routes of [
      [...shared, route('p.test', 2)],
      [route('p.test', 2), ...shared],
    ]) {
      const m = model(config(routes, { clientCa: global }, { maxVerifyDepth: 3 }));
      assert.equal(extAuthz(m, 0).clientTrust?.directIssuerOnly, true);
      assert.equal(extAuthz(m, 0).clientTrust?.maxVerifyDepth, 1);
      assert.equal(extAuthz(m, 2).clientTrust?.directIssuerOnly, undefined);
      assert.equal(extAuthz(m, 2).clientTrust?.maxVerifyDepth, 3);
    }
  });

  it('is part of the route key: a new CRL makes a new key, the same CA content keeps it', async () => {
    const base = config([route('a.test', 0)], { clientCa: bundle(caA, 'a.pem') });
    const key = extAuthz(model(base), 0).name;
    assert.equal(
      extAuthz(model(config([route('a.test', 0)], { clientCa: bundle(caA, 'elsewhere.pem') })), 0).name,
      key,
    );
    const crl = await createCrl(caA, []);
    const revoking = model(
      config(
        [route('a.test', 0)],
        { clientCa: bundle(caA, 'a.pem') },
        { crls: [{ pem: crl, issuer: crlIssuerName(crl) }] },
      ),
    );
    assert.notEqual(extAuthz(revoking, 0).name, key);
    assert.equal(extAuthz(revoking, 0).clientTrust?.crlPem, crl);
    // The key digests the trust's id, not its PEM text.
    assert.notEqual(
      clientTrustId(extAuthz(revoking, 0).clientTrust!),
      clientTrustId(extAuthz(model(base), 0).clientTrust!),
    );
  });
});
