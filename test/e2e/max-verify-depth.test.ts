// downstream_mtls.max_verify_depth on a host with one CA, without a CRL: with a CRL (only_verify_leaf_cert_crl),
// a leaf issued by an intermediate that has no CRL of its own is refused for that reason alone, so a depth test
// beside a CRL passes even when the depth is not sent to Envoy at all (unless that intermediate's own CRL is
// in crl_file too: test/e2e/intermediate-crl.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

function configWithDepth(depth: number, upstreamUrl = up.url): string {
  return (
    'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n' +
    `downstream_mtls:\n  ca_file: ca-a.pem\n  enforcement: reject_connection\n  max_verify_depth: ${depth}\n` +
    `routes:\n  - from: https://${HOSTS.x}\n    to: ${upstreamUrl}\n    allow_any_authenticated_user: true\n`
  );
}
let up: TestUpstream;

describe('max_verify_depth 1 (reject_connection, no CRL): only certificates issued directly by the CA', () => {
  let pki: TestPki;
  let edge: RunningEdge;
  before(async () => {
    pki = await createTestPki();
    up = await startUpstream('u');
    edge = await startEdge({ dir: pki.dir, yaml: configWithDepth(1) });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });
  const request = (c: { cert: string; key: string }) => ({
    port: edge.httpsPort,
    servername: HOSTS.x,
    ca: pki.caA,
    path: '/p',
    ...c,
  });

  it('a certificate issued by the CA is admitted', async () => {
    assert.deepEqual(await httpsGet(request(pki.clientA)), { status: 200, body: 'upstream u /p' });
  });
  it(
    "one issued by the CA's intermediate (sent with the " +
      'intermediate) is refused at the handshake, before the upstream',
    async () => {
      const seen = up.seen.length;
      assert.match(await expectHandshakeRefused(request(pki.clientAViaIntermediate)), /ALERT/);
      assert.equal(up.seen.length, seen);
    },
  );
  it(
    'the same certificate is admitted once max_verify_depth ' + 'is 2: the refusal above was the depth, nothing else',
    async () => {
      const applied = async (depth: number) => {
        const version = (await edge.status()).configVersion;
        edge.writeConfig(configWithDepth(depth));
        await edge.waitForStatus((s) => s.configVersion !== version && s.synced && s.reload.errors.length === 0);
      };
      await applied(2);
      try {
        // A new generation of trust is a new filter chain: retry while Envoy warms it.
        const deadline = Date.now() + 10_000;
        let outcome = await httpsGet(request(pki.clientAViaIntermediate)).catch((e: Error) => e.message);
        while (typeof outcome === 'string' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          outcome = await httpsGet(request(pki.clientAViaIntermediate)).catch((e: Error) => e.message);
        }
        assert.deepEqual(outcome, { status: 200, body: 'upstream u /p' });
      } finally {
        await applied(1);
      }
    },
  );
});
