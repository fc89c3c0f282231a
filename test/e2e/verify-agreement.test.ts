import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyClientCertificate, type ClientTrust } from '../../control-plane/src/identity/verify-certificate.js';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
} from '../../control-plane/src/pki/index.js';
import { extAuthzRoutes } from '../support/authz-client.js';
import { applyConfig } from '../support/config-edits.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { nonCaIssuer, selfSignedClient } from '../unit/identity/chain-certs.js';

const DAY_MS = 24 * 3_600_000;

/** reject_connection: Envoy's verdict is the handshake's. Identity headers make the route an ext_authz one. */
const configYaml = (up: TestUpstream, crl: boolean) => `certificate_file: server.pem
certificate_key_file: server-key.pem
downstream_mtls:
  ca_file: ca-a.pem
${crl ? '  crl_file: crl.pem\n' : ''}  enforcement: reject_connection
  max_verify_depth: 2
  match_subject_alt_names:
    - email: .*@example\\.com
routes:
  - from: https://${HOSTS.x}
    to: ${up.url}
    allow_any_authenticated_user: true
    pass_identity_headers: true
`;

interface Case {
  name: string;
  /** Leaf first, then what the client sends along. */
  chain: string;
  key: string;
  accepted: boolean;
}

const blocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];

/**
 * The same certificates through Envoy's handshake (BoringSSL) and through the control plane's verifier, with
 * the trust the model gives the route: both must say the same, and what each case expects.
 */
describe("the control plane's certificate verifier agrees with Envoy's handshake", () => {
  const ctx = {} as {
    pki: TestPki;
    up: TestUpstream;
    edge: RunningEdge;
    cases: Case[];
    revoked: Case;
    revokedViaIntermediate: Case;
  };
  before(async () => {
    ctx.pki = await createTestPki();
    const ca = ctx.pki.caAuthority;
    const now = Date.now();
    const issue = async (
      name: string,
      accepted: boolean,
      issuer = ca,
      opts: Parameters<typeof issueClientCertificate>[1] = { commonName: name, email: `${name}@example.com` },
    ): Promise<Case> => {
      const c = await issueClientCertificate(issuer, opts);
      return { name, chain: c.chainPem, key: c.keyPem, accepted };
    };
    const second = await createIntermediateCa(ctx.pki.intermediateA, { commonName: 'Agreement Intermediate A2' });
    const fake = await nonCaIssuer(ca, 'Agreement Not A CA');
    const forged = await selfSignedClient('alice', 'alice@example.com', 'Test CA A');
    const otherCa = await createRootCa({ commonName: 'Agreement Other CA' });
    ctx.cases = [
      await issue('direct', true),
      await issue('via-intermediate', true, ctx.pki.intermediateA),
      await issue('two-intermediates', false, second),
      await issue('expired', false, ca, {
        commonName: 'expired',
        email: 'expired@example.com',
        notBefore: new Date(now - 10 * DAY_MS),
        notAfter: new Date(now - DAY_MS),
      }),
      await issue('not-yet-valid', false, ca, {
        commonName: 'early',
        email: 'early@example.com',
        notBefore: new Date(now + DAY_MS),
        notAfter: new Date(now + 10 * DAY_MS),
      }),
      await issue('server-auth-only', false, ca, {
        commonName: 'srv',
        email: 'srv@example.com',
        extendedKeyUsage: 'serverAuth',
      }),
      await issue('no-eku', true, ca, { commonName: 'plain', email: 'plain@example.com', extendedKeyUsage: 'none' }),
      await issue('san-mismatch', false, ca, { commonName: 'org', email: 'someone@example.org' }),
      await issue('san-with-comma', true, ca, { commonName: 'comma', email: 'mallory@evil.test,alice@example.com' }),
      await issue('san-suffix', false, ca, { commonName: 'suffix', email: 'alice@example.com.evil.test' }),
      await issue('other-ca', false, otherCa),
      { ...(await issue('non-ca-issuer', false, fake)), chain: '' },
      { name: 'forged-self-signed', chain: forged, key: '', accepted: false },
    ];
    const nonCa = ctx.cases.find((c) => c.name === 'non-ca-issuer')!;
    const leaf = await issueClientCertificate(fake, { commonName: 'frank', email: 'frank@example.com' });
    Object.assign(nonCa, { chain: leaf.certPem + fake.certPem, key: leaf.keyPem });
    ctx.revoked = await issue('revoked', true);
    ctx.revokedViaIntermediate = await issue('revoked-via-intermediate', true, ctx.pki.intermediateA);
    ctx.up = await startUpstream('app');
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: configYaml(ctx.up, false) });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });

  const trust = async (): Promise<ClientTrust> => {
    const [route] = await extAuthzRoutes(ctx.edge, HOSTS.x);
    assert.ok(route?.clientTrust, 'the route has a trust');
    return route.clientTrust;
  };
  async function verdicts(c: Case): Promise<{ envoy: boolean; service: boolean }> {
    const [leaf] = blocks(c.chain);
    let envoy: boolean;
    if (c.key === '') {
      // No key: the forgery is handed to the service only (Envoy could not even complete a handshake with it).
      envoy = false;
    } else {
      const before = ctx.up.seen.length;
      const status = await httpsGet({
        port: ctx.edge.httpsPort,
        servername: HOSTS.x,
        ca: ctx.pki.caA,
        path: '/',
        cert: c.chain,
        key: c.key,
      }).then(
        (r) => r.status,
        () => 0,
      );
      envoy = status === 200 && ctx.up.seen.length === before + 1;
      assert.ok(
        status === 200 || status === 0,
        `${c.name}: Envoy answered ${status} (the handshake passed, the request did not: the two disagree)`,
      );
    }
    return { envoy, service: verifyClientCertificate(leaf!, [c.chain], await trust(), Date.now()).ok };
  }

  it('without CRLs: every case gets the same verdict from both, and the one it should', async () => {
    for (const c of ctx.cases) {
      const { envoy, service } = await verdicts(c);
      assert.equal(service, envoy, `${c.name}: the service says ${service}, Envoy ${envoy}`);
      assert.equal(service, c.accepted, `${c.name}: expected ${c.accepted ? 'accepted' : 'refused'}`);
    }
  });

  /** Writes crl.pem (these CRLs), switches the edge to the config with it, and checks the cases both ways. */
  async function withCrls(crlPem: string, expected: Record<string, boolean>, cases: Case[]): Promise<void> {
    writeFileSync(join(ctx.pki.dir, 'crl.pem'), crlPem);
    const version = (await ctx.edge.status()).configVersion;
    try {
      ctx.edge.writeConfig(configYaml(ctx.up, true));
      await ctx.edge.waitForStatus(
        (s) =>
          s.configVersion !== version &&
          s.synced &&
          s.nodes.every((n) => n.types.every((t) => t.acked === s.typeVersions[t.typeUrl])),
        15_000,
      );
      const checked = cases.filter((x) => x.name in expected);
      assert.equal(checked.length, Object.keys(expected).length, 'every expected case exists');
      for (const c of checked) {
        const { envoy, service } = await verdicts(c);
        assert.equal(service, envoy, `${c.name}: the service says ${service}, Envoy ${envoy}`);
        assert.equal(service, expected[c.name], `${c.name}: expected ${expected[c.name] ? 'accepted' : 'refused'}`);
      }
    } finally {
      // Back to the config without CRLs, so that the other tests find it whatever the order.
      await applyConfig(ctx.edge, configYaml(ctx.up, false));
    }
  }
  const serialOf = (c: Case) => new X509Certificate(blocks(c.chain)[0]!).serialNumber;

  it(
    'with a CRL of the CA: revoked is refused by both; a ' + 'leaf under an intermediate (whose CRL is missing) too',
    async () => {
      const crl = await createCrl(ctx.pki.caAuthority, [serialOf(ctx.revoked)]);
      await withCrls(crl, { direct: true, revoked: false, 'via-intermediate': false, expired: false, 'no-eku': true }, [
        ...ctx.cases,
        ctx.revoked,
      ]);
    },
  );

  it(
    'with the CRLs of the CA and of its intermediate: the leaf under the intermediate ' +
      'is accepted by both, the one the intermediate revoked refused by both',
    async () => {
      const crls =
        (await createCrl(ctx.pki.caAuthority, [serialOf(ctx.revoked)])) +
        (await createCrl(ctx.pki.intermediateA, [serialOf(ctx.revokedViaIntermediate)]));
      const expected = {
        direct: true,
        revoked: false,
        'via-intermediate': true,
        'revoked-via-intermediate': false,
        'two-intermediates': false,
      };
      await withCrls(crls, expected, [...ctx.cases, ctx.revoked, ctx.revokedViaIntermediate]);
    },
  );
});
