import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

describe('base64 client_ca, certificate and tls_downstream_client_ca', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let edge: RunningEdge;

  before(async () => {
    pki = await createTestPki();
    upstream = await startUpstream('u');
    edge = await startEdge({
      dir: pki.dir,
      yaml: `
certificate: ${b64(pki.serverCert)}
certificate_key: ${b64(pki.serverKey)}
client_ca: ${b64(pki.caA)}
routes:
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    allow_any_authenticated_user: true
  - from: https://${HOSTS.y}
    to: ${upstream.url}
    tls_downstream_client_ca: ${b64(pki.caB)}
    allow_any_authenticated_user: true
`,
    });
  });
  after(async () => {
    await edge?.stop();
    await upstream?.close();
  });
  const req = (host: string, client?: { cert: string; key: string }) => ({
    port: edge.httpsPort,
    servername: host,
    ca: pki.caA,
    ...client,
  });

  it('the global CA (base64) admits CA A on X and refuses CA B', async () => {
    assert.equal((await httpsGet(req(HOSTS.x, pki.clientA))).status, 200);
    assert.match(await expectHandshakeRefused(req(HOSTS.x, pki.clientB)), /UNKNOWN_CA/);
  });
  it("Y's own CA (base64) replaces the global one: CA B in, CA A out", async () => {
    assert.equal((await httpsGet(req(HOSTS.y, pki.clientB))).status, 200);
    assert.match(await expectHandshakeRefused(req(HOSTS.y, pki.clientA)), /UNKNOWN_CA/);
  });
});

describe('CLIENT_CA_FILE, CERTIFICATE_FILE and CERTIFICATE_KEY_FILE from the environment', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let edge: RunningEdge;

  before(async () => {
    pki = await createTestPki();
    upstream = await startUpstream('u');
    edge = await startEdge({
      dir: pki.dir,
      // The file names CA B; the environment overrides it with CA A, as in Pomerium.
      yaml: `
client_ca_file: ca-b.pem
routes:
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    allow_any_authenticated_user: true
`,
      env: {
        CLIENT_CA_FILE: join(pki.dir, 'ca-a.pem'),
        CERTIFICATE_FILE: join(pki.dir, 'server.pem'),
        CERTIFICATE_KEY_FILE: join(pki.dir, 'server-key.pem'),
      },
    });
  });
  after(async () => {
    await edge?.stop();
    await upstream?.close();
  });

  it('serves with the certificate from CERTIFICATE_FILE and admits CA A from CLIENT_CA_FILE', async () => {
    const res = await httpsGet({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, ...pki.clientA });
    assert.deepEqual(res, { status: 200, body: 'upstream u /' });
  });
  it('refuses CA B, which only the file named', async () => {
    assert.match(
      await expectHandshakeRefused({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, ...pki.clientB }),
      /UNKNOWN_CA/,
    );
  });
});
