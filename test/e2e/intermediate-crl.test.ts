// Revocation under an intermediate CA: the root in downstream_mtls.ca_file, the intermediate's CRL in
// crl_file, max_verify_depth 2. The CRL's issuer is no client CA, and it used to be dropped silently (Envoy
// and the ext_authz verifier got no CRL), so a certificate the intermediate revoked got through. Real Envoy,
// real handshakes, certificates and CRL made here; under both enforcements that refuse invalid certificates.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Enforcement } from '../../control-plane/src/config/index.js';
import { verifyClientCertificate } from '../../control-plane/src/identity/verify-certificate.js';
import { createCrl, issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { extAuthzRoutes } from '../support/authz-client.js';
import { acrossTheChange, openConnection } from '../support/open-connections.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet, type ClientRequest } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** pass_identity_headers makes the route an ext_authz one: the control plane verifies the certificate again. */
const configYaml = (enforcement: Enforcement, upstream: string) =>
  'certificate_file: ../server.pem\ncertificate_key_file: ../server-key.pem\n' +
  `downstream_mtls:\n  ca_file: ../ca-a.pem\n  crl_file: ` +
  `../intermediate-crl.pem\n  enforcement: ${enforcement}\n  max_verify_depth: 2\n` +
  `routes:\n  - from: https://${HOSTS.x}\n    to: ${upstream}\n    allow_any_authenticated_user: true\n    pass_identity_headers: true\n`;

const shared = {} as { pki: TestPki; revoked: ClientCert & { chain: string }; good: ClientCert };
let ready: Promise<void> | undefined;
/** One PKI for both enforcements: CA A (the root), its intermediate, and the intermediate's CRL revoking one leaf. */
const setUp = () =>
  (ready ??= (async () => {
    shared.pki = await createTestPki();
    const revoked = await issueClientCertificate(shared.pki.intermediateA, {
      commonName: 'revoked',
      email: 'revoked@example.com',
    });
    shared.revoked = { cert: revoked.chainPem, key: revoked.keyPem, chain: revoked.chainPem };
    shared.good = shared.pki.clientAViaIntermediate;
    writeFileSync(
      join(shared.pki.dir, 'intermediate-crl.pem'),
      await createCrl(shared.pki.intermediateA, [revoked.serialHex]),
    );
  })());
after(() => {
  if (shared.pki) rmSync(shared.pki.dir, { recursive: true, force: true });
});

for (const enforcement of ['reject_connection', 'policy_with_default_deny'] as const) {
  describe(`an intermediate's CRL, root in ca_file, depth 2 (enforcement: ${enforcement})`, () => {
    let up: TestUpstream;
    let edge: RunningEdge;
    before(async () => {
      await setUp();
      const dir = join(shared.pki.dir, enforcement);
      mkdirSync(dir);
      up = await startUpstream('u');
      edge = await startEdge({ dir, yaml: configYaml(enforcement, up.url) });
    });
    after(async () => {
      await edge?.stop();
      await up?.close();
    });
    const request = (path: string, c: ClientCert): ClientRequest => ({
      port: edge.httpsPort,
      servername: HOSTS.x,
      ca: shared.pki.caA,
      path,
      ...c,
    });

    it(
      `a certificate the intermediate revoked is refused ` +
        `(${enforcement === 'reject_connection' ? 'at the handshake' : '495'}), before the upstream`,
      async () => {
        const seen = up.seen.length;
        if (enforcement === 'reject_connection') {
          assert.match(await expectHandshakeRefused(request('/revoked', shared.revoked)), /CERTIFICATE_REVOKED/);
        } else {
          const res = await httpsGet(request('/revoked', shared.revoked));
          assert.equal(res.status, 495, `${res.status} ${res.body.slice(0, 120)}`);
        }
        assert.equal(up.seen.length, seen, 'the revoked certificate reached the upstream');
      },
    );

    it(
      'an unrevoked certificate of the intermediate reaches the ' +
        "upstream (the intermediate's CRL is current and signed by it)",
      async () => {
        assert.deepEqual(await httpsGet(request('/good', shared.good)), { status: 200, body: 'upstream u /good' });
        assert.equal(up.seen.at(-1)?.url, '/good');
      },
    );

    it(
      'the ext_authz trust the control plane builds from this config has the CRL too: given ' +
        'the chain as Envoy forwards it (leaf, intermediate), it refuses the revoked one',
      async () => {
        const [route] = await extAuthzRoutes(edge, HOSTS.x);
        assert.ok(route?.clientTrust, 'the route has a trust');
        const verdict = verifyClientCertificate(
          shared.revoked.chain,
          [shared.revoked.chain],
          route.clientTrust,
          Date.now(),
        );
        assert.match(verdict.ok ? 'accepted' : verdict.reason, /it is revoked/);
        assert.equal(
          verifyClientCertificate(shared.good.cert, [shared.good.cert], route.clientTrust, Date.now()).ok,
          true,
        );
      },
    );

    it(
      'a certificate issued directly by the root finds no CRL for its ' +
        'issuer and is refused (only_verify_leaf_cert_crl: expected)',
      async () => {
        const seen = up.seen.length;
        if (enforcement === 'reject_connection') await expectHandshakeRefused(request('/direct', shared.pki.clientA));
        else assert.equal((await httpsGet(request('/direct', shared.pki.clientA))).status, 495);
        assert.equal(up.seen.length, seen);
      },
    );
  });
}

// On connections opened before the CRL changed, nothing but the ext_authz service sees the certificate again
// (model/trust.ts): it verifies the chain Envoy forwards (leaf, then the intermediate) against the new trust.
describe("an intermediate's CRL revokes a certificate in use: its open connections get 495", () => {
  let up: TestUpstream;
  let edge: RunningEdge;
  let dir: string;
  const revoked: string[] = [];
  const writeCrl = async () => {
    writeFileSync(join(dir, 'crl.tmp'), await createCrl(shared.pki.intermediateA, revoked));
    renameSync(join(dir, 'crl.tmp'), join(dir, 'intermediate-crl.pem'));
  };
  before(async () => {
    await setUp();
    dir = join(shared.pki.dir, 'open-connections');
    mkdirSync(dir);
    await writeCrl();
    up = await startUpstream('u');
    const yaml = configYaml('policy_with_default_deny', up.url).replace(
      'crl_file: ../intermediate-crl.pem',
      'crl_file: intermediate-crl.pem',
    );
    edge = await startEdge({ dir, yaml, drainTimeSeconds: 60 });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  it(
    'the revoked client gets 495 on its open connection; ' + 'another client of the intermediate is still served',
    async (t) => {
      const issue = (name: string) =>
        issueClientCertificate(shared.pki.intermediateA, { commonName: name, email: `${name}@example.com` });
      const [rex, kim] = [await issue('rex'), await issue('kim')];
      await acrossTheChange({
        connect: (protocol, client) =>
          openConnection[protocol]({ port: edge.httpsPort, servername: HOSTS.x, ca: shared.pki.caA, ...client }),
        change: async () => {
          const { configVersion } = await edge.status();
          revoked.push(rex.serialHex);
          await writeCrl();
          await edge.waitForStatus(
            (s) => s.configVersion !== configVersion && s.synced && s.reload.errors.length === 0,
          );
        },
        upstreamPaths: () => up.seen.map((s) => s.url),
        refused: { cert: rex.chainPem, key: rex.keyPem },
        kept: { cert: kim.chainPem, key: kim.keyPem },
        log: (line) => t.diagnostic(line),
      });
    },
  );
});
