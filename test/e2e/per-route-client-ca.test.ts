import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet, rawHttp1 } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('tls_downstream_client_ca_file: each route with its own CA', () => {
  let pki: TestPki;
  const up: Record<'x' | 'y' | 'z', TestUpstream> = {} as never;
  let edge: RunningEdge;

  before(async () => {
    pki = await createTestPki();
    up.x = await startUpstream('x');
    up.y = await startUpstream('y');
    up.z = await startUpstream('z');
    edge = await startEdge({
      dir: pki.dir,
      yaml: `
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.x}
    to: ${up.x.url}
    tls_downstream_client_ca_file: ca-a.pem
    allow_any_authenticated_user: true
  - from: https://${HOSTS.y}
    to: ${up.y.url}
    tls_downstream_client_ca_file: ca-b.pem
    allow_any_authenticated_user: true
  - from: https://${HOSTS.z}
    to: ${up.z.url}
    allow_public_unauthenticated_access: true
`,
    });
  });
  after(async () => {
    await edge?.stop();
    await Promise.all(Object.values(up).map((u) => u.close()));
  });

  const req = (host: string, extra: { cert?: string; key?: string; host?: string } = {}) => ({
    port: edge.httpsPort,
    servername: host,
    ca: pki.caA,
    path: '/p',
    ...extra,
  });

  it('host X accepts a CA-A certificate', async () => {
    assert.deepEqual(await httpsGet(req(HOSTS.x, pki.clientA)), { status: 200, body: 'upstream x /p' });
  });
  it('host X refuses a CA-B certificate and no certificate', async () => {
    assert.match(await expectHandshakeRefused(req(HOSTS.x, pki.clientB)), /UNKNOWN_CA/);
    assert.match(await expectHandshakeRefused(req(HOSTS.x)), /CERTIFICATE_REQUIRED/);
  });
  it('host Y accepts a CA-B certificate', async () => {
    assert.deepEqual(await httpsGet(req(HOSTS.y, pki.clientB)), { status: 200, body: 'upstream y /p' });
  });
  it('host Y refuses a CA-A certificate and no certificate', async () => {
    assert.match(await expectHandshakeRefused(req(HOSTS.y, pki.clientA)), /UNKNOWN_CA/);
    assert.match(await expectHandshakeRefused(req(HOSTS.y)), /CERTIFICATE_REQUIRED/);
  });
  it('host Z needs no certificate', async () => {
    assert.deepEqual(await httpsGet(req(HOSTS.z)), { status: 200, body: 'upstream z /p' });
  });
  it('host Z does not ask for one either: a client certificate is simply not requested', async () => {
    assert.deepEqual(await httpsGet(req(HOSTS.z, pki.clientB)), { status: 200, body: 'upstream z /p' });
  });

  it('a connection made for Z (no CA) that asks for host X gets 421 and never reaches X', async () => {
    const before = up.x.seen.length;
    const res = await httpsGet(req(HOSTS.z, { host: HOSTS.x }));
    assert.equal(res.status, 421);
    assert.match(res.body, /Misdirected/);
    assert.equal(up.x.seen.length, before);
  });
  it('a connection made for X (CA A) that asks for host Y (CA B) gets 421', async () => {
    const before = up.y.seen.length;
    const res = await httpsGet(req(HOSTS.x, { ...pki.clientA, host: HOSTS.y }));
    assert.equal(res.status, 421);
    assert.equal(up.y.seen.length, before);
  });
  it('a handshake without SNI lands on the chain without a CA and cannot reach X', async () => {
    const before = up.x.seen.length;
    const res = await rawHttp1({ port: edge.httpsPort, host: HOSTS.x, path: '/p' });
    assert.equal(res.status, 421);
    assert.equal(up.x.seen.length, before);
  });
});

describe('a public host next to a CA-protected wildcard', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;
  before(async () => {
    pki = await createTestPki();
    up = await startUpstream('w');
    edge = await startEdge({
      dir: pki.dir,
      yaml: `
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://*.w.mtls.test
    to: ${up.url}
    tls_downstream_client_ca_file: ca-a.pem
    allow_any_authenticated_user: true
  - from: https://public.w.mtls.test
    to: ${up.url}
    allow_public_unauthenticated_access: true
`,
    });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  it('the exact public name wins over the wildcard: no certificate needed', async () => {
    const res = await rawHttp1({
      port: edge.httpsPort,
      servername: 'public.w.mtls.test',
      host: 'public.w.mtls.test',
      path: '/p',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'upstream w /p');
  });
  it('other names under the wildcard still need a CA-A certificate', async () => {
    await assert.rejects(
      rawHttp1({ port: edge.httpsPort, servername: 'a.w.mtls.test', host: 'a.w.mtls.test', path: '/p' }),
      /certificate required/,
    );
    const res = await rawHttp1({
      port: edge.httpsPort,
      servername: 'a.w.mtls.test',
      host: 'a.w.mtls.test',
      path: '/p',
      ...pki.clientA,
    });
    assert.equal(res.status, 200);
  });
  it('the public connection cannot ask for a wildcard host (421)', async () => {
    const res = await rawHttp1({
      port: edge.httpsPort,
      servername: 'public.w.mtls.test',
      host: 'a.w.mtls.test',
      path: '/p',
    });
    assert.equal(res.status, 421);
  });
});
