import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('client_ca_file: a client certificate for every route', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let edge: RunningEdge;

  before(async () => {
    pki = await createTestPki();
    upstream = await startUpstream('x');
    edge = await startEdge({
      dir: pki.dir,
      yaml: `
certificate_file: server.pem
certificate_key_file: server-key.pem
client_ca_file: ca-a.pem
routes:
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    allow_any_authenticated_user: true
`,
    });
  });
  after(async () => {
    await edge?.stop();
    await upstream?.close();
  });

  const get = (extra: { cert?: string; key?: string } = {}) => ({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, path: '/hello', ...extra });

  it('refuses a client without a certificate', async () => {
    const code = await expectHandshakeRefused(get());
    assert.match(code, /CERTIFICATE_REQUIRED/);
  });

  it('refuses a certificate from another CA', async () => {
    const code = await expectHandshakeRefused(get(pki.clientB));
    assert.match(code, /UNKNOWN_CA/);
  });

  it('refuses an expired certificate from the right CA', async () => {
    const code = await expectHandshakeRefused(get(pki.expiredA));
    assert.match(code, /CERTIFICATE_EXPIRED/);
  });

  it('serves a certificate issued directly by the CA', async () => {
    const res = await httpsGet(get(pki.clientA));
    assert.equal(res.status, 200);
    assert.equal(res.body, 'upstream x /hello');
  });

  it('serves a certificate issued through an intermediate of the CA', async () => {
    const res = await httpsGet(get(pki.clientAViaIntermediate));
    assert.equal(res.status, 200);
    assert.equal(res.body, 'upstream x /hello');
  });

  it('never let a refused client reach the upstream', () => {
    assert.equal(upstream.seen.length, 2);
  });
});
