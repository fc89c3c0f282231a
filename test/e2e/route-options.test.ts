import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRootCa, issueServerCertificate } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet, rawHttp1 } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

// Every route option of the first release, through Envoy: what the upstream receives is the proof.
describe('route options through Envoy', () => {
  let pki: TestPki;
  let plain: TestUpstream;
  let second: TestUpstream;
  let secure: TestUpstream;
  let edge: RunningEdge;

  before(async () => {
    pki = await createTestPki();
    const upstreamCa = await createRootCa({ commonName: 'Upstream CA' });
    const upstreamCert = await issueServerCertificate(upstreamCa, { dnsNames: ['upstream.internal'] });
    writeFileSync(join(pki.dir, 'upstream-ca.pem'), upstreamCa.certPem);
    plain = await startUpstream('plain', { slowMs: 1500 });
    second = await startUpstream('second');
    secure = await startUpstream('secure', { tls: { cert: upstreamCert.chainPem, key: upstreamCert.keyPem } });
    const route = (lines: string[]) =>
      [
        `  - from: https://${HOSTS.z}`,
        ...lines.map((l) => `    ${l}`),
        '    allow_public_unauthenticated_access: true',
      ].join('\n');
    edge = await startEdge({
      dir: pki.dir,
      yaml: [
        'certificate_file: server.pem',
        'certificate_key_file: server-key.pem',
        'certificate_authority_file: upstream-ca.pem',
        'routes:',
        route(['prefix: /rewrite/', 'prefix_rewrite: /new/', `to: ${plain.url}`]),
        route(['prefix: /tobase/', `to: ${plain.url}/base/`]),
        route([
          'regex: ^/items/[0-9]+$',
          `to: ${plain.url}`,
          'set_request_headers: { X-Edge: "yes" }',
          'remove_request_headers: [X-Secret]',
        ]),
        route(['path: /exact', `to: ${plain.url}`, 'preserve_host_header: true']),
        route(['prefix: /slow', `to: ${plain.url}`, 'timeout: 500ms']),
        route(['prefix: /balanced', `to: [${plain.url}, ${second.url}]`]),
        route([
          'prefix: /secure',
          `to: ${secure.url}`,
          'tls_server_name: upstream.internal',
          'tls_custom_ca_file: upstream-ca.pem',
        ]),
        route([
          'prefix: /wrong-ca',
          `to: ${secure.url}`,
          'tls_server_name: upstream.internal',
          'tls_custom_ca_file: ca-b.pem',
        ]),
        route([
          'prefix: /wrong-name',
          `to: ${secure.url}`,
          'tls_server_name: other.internal',
          'tls_custom_ca_file: upstream-ca.pem',
        ]),
        route(['prefix: /skip-verify', `to: ${secure.url}`, 'tls_skip_verify: true']),
        route(['prefix: /added-ca', `to: ${secure.url}`, 'tls_server_name: upstream.internal']),
        route(['prefix: /ip-name', `to: ${secure.url}`]),
        route(['prefix: /', `to: ${second.url}`]),
      ].join('\n'),
    });
  });
  after(async () => {
    await edge?.stop();
    await Promise.all([plain, second, secure].map((u) => u?.close()));
  });

  const get = (path: string) => httpsGet({ port: edge.httpsPort, servername: HOSTS.z, ca: pki.caA, path });
  const last = (u: TestUpstream) => u.seen.at(-1)!;

  it('prefix_rewrite replaces the matched prefix', async () => {
    assert.equal((await get('/rewrite/a/b?q=1')).body, 'upstream plain /new/a/b?q=1');
  });

  it("a path on `to` replaces the request path's leading slash", async () => {
    assert.equal((await get('/tobase/x')).body, 'upstream plain /base/tobase/x');
  });

  it('regex matches the whole path; set_request_headers and remove_request_headers apply', async () => {
    const res = await rawHttp1({ port: edge.httpsPort, servername: HOSTS.z, host: HOSTS.z, path: '/items/42' });
    assert.equal(res.body, 'upstream plain /items/42');
    assert.equal(last(plain).headers['x-edge'], 'yes');
    assert.equal((await get('/items/42x')).body, 'upstream second /items/42x', 'a partial match falls through');
  });

  it('remove_request_headers drops a header the client sent', async () => {
    await httpsGet({
      port: edge.httpsPort,
      servername: HOSTS.z,
      ca: pki.caA,
      path: '/items/7',
      headers: { 'x-secret': 'hunter2', 'x-kept': '1' },
    });
    assert.equal(last(plain).url, '/items/7');
    assert.equal(last(plain).headers['x-secret'], undefined);
    assert.equal(last(plain).headers['x-kept'], '1');
  });

  it('the upstream gets its own host as Host, unless preserve_host_header', async () => {
    await get('/rewrite/h');
    assert.equal(last(plain).headers.host, `127.0.0.1:${plain.port}`);
    assert.equal((await get('/exact')).body, 'upstream plain /exact');
    assert.equal(last(plain).headers.host, HOSTS.z);
    assert.equal((await get('/exact/more')).body, 'upstream second /exact/more', 'path matches exactly');
  });

  it('timeout bounds the wait for the upstream (504)', async () => {
    const res = await get('/slow');
    assert.equal(res.status, 504);
  });

  it('several `to` URLs share the load', async () => {
    const before = { plain: plain.seen.length, second: second.seen.length };
    for (let i = 0; i < 6; i++) await get('/balanced');
    assert.ok(plain.seen.length > before.plain && second.seen.length > before.second, 'both endpoints served');
  });

  it('https upstreams are verified with tls_custom_ca_file against tls_server_name', async () => {
    assert.deepEqual(await get('/secure/ok'), { status: 200, body: 'upstream secure /secure/ok' });
    const seenBefore = secure.seen.length;
    assert.equal((await get('/wrong-ca')).status, 503);
    assert.equal((await get('/wrong-name')).status, 503);
    assert.equal(secure.seen.length, seenBefore, 'an unverified upstream gets no request');
  });

  it('certificate_authority adds to the system roots; the upstream name is always checked', async () => {
    assert.deepEqual(await get('/added-ca'), { status: 200, body: 'upstream secure /added-ca' });
    const seenBefore = secure.seen.length;
    assert.equal((await get('/ip-name')).status, 503, 'the certificate does not name 127.0.0.1');
    assert.equal(secure.seen.length, seenBefore);
  });

  it('tls_skip_verify accepts any upstream certificate', async () => {
    assert.deepEqual(await get('/skip-verify'), { status: 200, body: 'upstream secure /skip-verify' });
  });
});
