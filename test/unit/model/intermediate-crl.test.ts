// Where the model puts an intermediate's CRL (issuer: none of the client CAs, or a configured CA under the
// bundle's): into the validation context (Envoy) and the ext_authz trust of every requirement that accepts
// intermediates, not into a shared host's union or its routes' trusts (direct issuers only); and the ext_authz
// verifier, given the chain Envoy forwards (leaf first, then
// the intermediate), refuses what that CRL revokes.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { crlIssuerName } from '../../../control-plane/src/certificates/index.js';
import type { CertificateBundle, Config, RouteConfig } from '../../../control-plane/src/config/index.js';
import { verifyClientCertificate } from '../../../control-plane/src/identity/verify-certificate.js';
import { buildEdgeModel, type EdgeModel } from '../../../control-plane/src/model/index.js';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  type CertificateAuthority,
} from '../../../control-plane/src/pki/index.js';
import { edgeConfig, routeConfig } from './config-fixtures.js';

const pki = {} as {
  root: CertificateAuthority;
  other: CertificateAuthority;
  intermediate: CertificateAuthority;
  rootCrl: string;
  interCrl: string;
  otherCrl: string;
};
before(async () => {
  pki.root = await createRootCa({ commonName: 'Model Root' });
  pki.other = await createRootCa({ commonName: 'Model Other Root' });
  pki.intermediate = await createIntermediateCa(pki.root, { commonName: 'Model Intermediate' });
  pki.rootCrl = await createCrl(pki.root, []);
  pki.interCrl = await createCrl(pki.intermediate, []);
  pki.otherCrl = await createCrl(pki.other, []);
});

const bundle = (ca: CertificateAuthority, origin: string): CertificateBundle => ({
  pem: ca.certPem,
  fingerprints: [new X509Certificate(ca.certPem).fingerprint256],
  origin,
});
const crls = (...pems: string[]) => pems.map((pem) => ({ pem, issuer: crlIssuerName(pem) }));
const route = (host: string, index: number, extra: Partial<RouteConfig> = {}) =>
  routeConfig(host, index, {
    match: { kind: 'prefix', value: `/r${index}` },
    access: 'any_authenticated_user',
    passIdentityHeaders: true,
    ...extra,
  });
const config = (routes: RouteConfig[], depth: number, crlPems: string[], extra: Partial<Config> = {}): Config =>
  edgeConfig(routes, {
    clientCertificateRules: {
      enforcement: 'reject_connection',
      maxVerifyDepth: depth,
      crls: crls(...crlPems),
      matchSubjectAltNames: [],
    },
    ...extra,
  });

function model(c: Config): EdgeModel {
  const m = buildEdgeModel(c);
  if (!m.ok) throw new Error(JSON.stringify(m.errors));
  return m.value;
}
/** The CRLs Envoy gets for a host (its class's validation context) and the ext_authz trust of a route. */
const envoyCrls = (m: EdgeModel, host: string) => {
  const r = m.classes.find((c) => c.hosts.some((h) => h.name === host))!.requirement;
  return 'ca' in r ? r.validation.crlPem : undefined;
};
const trust = (m: EdgeModel, index: number) =>
  m.authorizationRoutes.find((r) => r.name.startsWith(`route-${index}.`))!.clientTrust!;

describe("an intermediate's CRL in the model", () => {
  it(
    'goes to Envoy and the ext_authz trust of every CA that ' +
      'accepts intermediates (depth 2, 0), beside its own CA CRL',
    () => {
      for (const depth of [2, 0]) {
        const routes = [route('a.test', 0), route('b.test', 1, { clientCa: bundle(pki.other, 'other.pem') })];
        const m = model(
          config(routes, depth, [pki.rootCrl, pki.interCrl, pki.otherCrl], { clientCa: bundle(pki.root, 'root.pem') }),
        );
        assert.equal(envoyCrls(m, 'a.test'), pki.rootCrl + pki.interCrl, `depth ${depth}: root's host`);
        assert.equal(
          envoyCrls(m, 'b.test'),
          pki.interCrl + pki.otherCrl,
          `depth ${depth}: the other root's host (Envoy ignores a CRL off the chain)`,
        );
        assert.equal(trust(m, 0).crlPem, pki.rootCrl + pki.interCrl);
        assert.equal(trust(m, 1).crlPem, pki.interCrl + pki.otherCrl);
      }
    },
  );

  it('does not go where only direct issuers are accepted: depth 1, and a shared host union', () => {
    const direct = model(
      config([route('a.test', 0)], 1, [pki.rootCrl, pki.interCrl], { clientCa: bundle(pki.root, 'root.pem') }),
    );
    assert.equal(envoyCrls(direct, 'a.test'), pki.rootCrl);
    // The root's own host takes the intermediate's CRL; the shared host's union does not.
    const shared = [
      route('s.test', 0, { clientCa: bundle(pki.root, 'root.pem') }),
      route('s.test', 1, { clientCa: bundle(pki.other, 'other.pem') }),
      route('a.test', 2, { clientCa: bundle(pki.root, 'root.pem') }),
    ];
    const m = model(config(shared, 2, [pki.rootCrl, pki.interCrl, pki.otherCrl]));
    assert.equal(envoyCrls(m, 's.test'), pki.rootCrl + pki.otherCrl);
    assert.equal(envoyCrls(m, 'a.test'), pki.rootCrl + pki.interCrl);
  });

  it(
    'applies nowhere on hosts shared by routes with different CAs (direct ' +
      "issuers only): neither the union nor the routes' ext_authz trusts carry it",
    () => {
      const shared = [
        route('s.test', 0, { clientCa: bundle(pki.root, 'root.pem') }),
        route('s.test', 1, { clientCa: bundle(pki.other, 'other.pem') }),
      ];
      const m = model(config(shared, 2, [pki.interCrl]));
      assert.equal(envoyCrls(m, 's.test'), '');
      // Neither root has a CRL: carrying the intermediate's would make the verifier demand one, and refuse all their
      // certificates.
      assert.equal(trust(m, 0).crlPem, '');
      assert.equal(trust(m, 1).crlPem, '');
      // Beside a host of the root alone: that is the one trust the CRL can apply to, so it needs no CRL of the root's.
      const beside = model(
        config([...shared, route('a.test', 2, { clientCa: bundle(pki.root, 'root.pem') })], 2, [pki.interCrl]),
      );
      assert.equal(envoyCrls(beside, 's.test'), '');
      assert.equal(envoyCrls(beside, 'a.test'), pki.interCrl);
      const withOwn = model(config(shared, 2, [pki.rootCrl, pki.interCrl, pki.otherCrl]));
      assert.equal(envoyCrls(withOwn, 's.test'), pki.rootCrl + pki.otherCrl);
      assert.equal(trust(withOwn, 0).crlPem, pki.rootCrl);
      assert.equal(trust(withOwn, 1).crlPem, pki.otherCrl);
    },
  );

  it(
    "an intermediate that is also a route's CA: its CRL " +
      "reaches the trust of the root above it, not another root's",
    () => {
      const routes = [
        route('a.test', 0),
        route('i.test', 1, { clientCa: bundle(pki.intermediate, 'intermediate.pem') }),
        route('o.test', 2, { clientCa: bundle(pki.other, 'other.pem') }),
      ];
      const m = model(
        config(routes, 0, [pki.rootCrl, pki.interCrl, pki.otherCrl], { clientCa: bundle(pki.root, 'root.pem') }),
      );
      assert.equal(envoyCrls(m, 'a.test'), pki.rootCrl + pki.interCrl);
      assert.equal(trust(m, 0).crlPem, pki.rootCrl + pki.interCrl);
      assert.equal(envoyCrls(m, 'i.test'), pki.interCrl);
      assert.equal(envoyCrls(m, 'o.test'), pki.otherCrl);
    },
  );

  it(
    'with several CAs that accept intermediates, one without a CRL ' +
      'of its own is refused (Envoy would refuse all its certificates)',
    () => {
      const routes = [route('a.test', 0), route('b.test', 1, { clientCa: bundle(pki.other, 'other.pem') })];
      const withoutOwn = buildEdgeModel(
        config(routes, 2, [pki.rootCrl, pki.interCrl], { clientCa: bundle(pki.root, 'root.pem') }),
      );
      assert.ok(!withoutOwn.ok);
      assert.deepEqual(
        withoutOwn.errors.map((e) => e.key),
        ['routes[1]'],
      );
      assert.match(
        withoutOwn.errors[0]!.message,
        /host b\.test: CRL 2 \(issuer CN=Model Intermediate\) is an intermediate's.*\(other\.pem\) have no CRL/,
      );
      // With one such CA the intermediate can only be under it: its own CRL is not needed.
      assert.ok(
        buildEdgeModel(config([route('a.test', 0)], 2, [pki.interCrl], { clientCa: bundle(pki.root, 'root.pem') })).ok,
      );
    },
  );

  it("is no root's CRL: a bundle with only an intermediate's CRL loads; a partly covered one is still refused", () => {
    const only = buildEdgeModel(
      config([route('a.test', 0)], 2, [pki.interCrl], {
        clientCa: { ...bundle(pki.root, 'both.pem'), pem: pki.root.certPem + pki.other.certPem },
      }),
    );
    assert.ok(only.ok);
    const partly = buildEdgeModel(
      config([route('a.test', 0)], 2, [pki.rootCrl, pki.interCrl], {
        clientCa: { ...bundle(pki.root, 'both.pem'), pem: pki.root.certPem + pki.other.certPem },
      }),
    );
    assert.ok(!partly.ok);
    assert.match(
      partly.errors[0]!.message,
      /none for CN=Model Other Root, so Envoy would refuse every certificate those CAs issue directly/,
    );
  });

  it(
    'the ext_authz verifier, with the chain Envoy forwards (leaf, ' +
      'intermediate), refuses the revoked and accepts the others',
    async () => {
      const revoked = await issueClientCertificate(pki.intermediate, { commonName: 'revoked' });
      const good = await issueClientCertificate(pki.intermediate, { commonName: 'good' });
      const revokingCrl = await createCrl(pki.intermediate, [revoked.serialHex]);
      const m = model(
        config([route('a.test', 0)], 2, [pki.rootCrl, revokingCrl], { clientCa: bundle(pki.root, 'root.pem') }),
      );
      const now = Date.now();
      const bad = verifyClientCertificate(revoked.certPem, [revoked.chainPem], trust(m, 0), now);
      assert.equal(bad.ok, false);
      assert.match(!bad.ok ? bad.reason : '', /it is revoked/);
      assert.deepEqual(
        { ...verifyClientCertificate(good.certPem, [good.chainPem], trust(m, 0), now), validUntilMs: 0 },
        { ok: true, validUntilMs: 0 },
      );
    },
  );
});
