import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('edge hardening', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;
  before(async () => {
    pki = await createTestPki();
    up = await startUpstream('u');
    edge = await startEdge({
      dir: pki.dir,
      yaml: `certificate_file: server.pem\ncertificate_key_file: server-key.pem\ndownstream_mtls:\n  ca_file: ca-a.pem\nroutes:\n  - from: https://${HOSTS.x}\n    to: ${up.url}\n    allow_any_authenticated_user: true\n`,
    });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });
  const get = (path: string, extra: Record<string, unknown> = {}) =>
    httpsGet({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, path, ...extra });

  it(
    "the edge's own /.mtls-edge/healthz answers without " + 'a client certificate; everything else asks for one',
    async () => {
      assert.deepEqual(await get('/.mtls-edge/healthz'), { status: 200, body: 'ok\n' });
      assert.equal((await get('/')).status, 495);
    },
  );

  it('headers with underscores are refused (they could smuggle past header checks)', async () => {
    const res = await get('/', { ...pki.clientA, headers: { x_client_verified: 'yes' } });
    assert.equal(res.status, 400);
  });

  it("private keys appear nowhere: not in /status, not in the logs, redacted in Envoy's config dump", async () => {
    const status = await (await fetch(`${edge.adminUrl}/status`)).text();
    assert.doesNotMatch(status, /PRIVATE KEY/);
    assert.doesNotMatch(edge.output(), /PRIVATE KEY/);
    const dump = await (await fetch(`${edge.envoyAdminUrl}/config_dump?include_eds`)).text();
    assert.match(dump, /"private_key":\s*\{\s*"inline_string":\s*"\[redacted\]"/);
    assert.doesNotMatch(dump, /BEGIN PRIVATE KEY/);
  });

  it('the overload manager watches the heap', async () => {
    const stats = await edge.envoyStats('overload.envoy.overload_actions.stop_accepting_requests');
    assert.ok('overload.envoy.overload_actions.stop_accepting_requests.active' in stats, JSON.stringify(stats));
  });
});
