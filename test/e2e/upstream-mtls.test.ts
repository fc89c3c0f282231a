import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
} from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { uniquePath } from '../support/seen.js';
import { steadyLoad, type Tally } from '../support/steady-load.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

type Entry = Record<string, unknown>;

// An upstream that accepts only clients with a certificate from its own CA, over TLS it verifies as the edge's
// routes say (its own server CA, the name upstream.internal). Host X presents the edge's certificate from files;
// hosts Y and Z reach a copy that speaks TLS 1.2, where a refusal comes during the handshake and Envoy reads its
// alert (a TLS 1.3 server sends it after the client's last message): Y presents none, Z one (inline) from another
// CA, and allows renegotiation. The edge logs at debug level, where the xDS traffic is, to show the keys stay out.
const UPSTREAM_NAME = 'upstream.internal';
const ROTATE_AFTER_REQUESTS = 20;

describe('mutual TLS to upstreams: the edge presents its own client certificate', () => {
  let pki: TestPki;
  let clientCa: CertificateAuthority;
  let edgeOne: ClientCert;
  let upstream: TestUpstream;
  let strict12: TestUpstream;
  let stranger: ClientCert;
  let edge: RunningEdge;

  const issue = async (ca: CertificateAuthority, commonName: string): Promise<ClientCert> => {
    const c = await issueClientCertificate(ca, { commonName });
    return { cert: c.certPem, key: c.keyPem };
  };
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  /** The edge's files as a rotation writes them: each to a temporary name, then renamed over the old one. */
  const writeClientFiles = (c: ClientCert) => {
    for (const [name, text] of [
      ['edge-client.pem', c.cert],
      ['edge-client-key.pem', c.key],
    ] as const) {
      const tmp = join(pki.dir, `${name}.tmp`);
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, join(pki.dir, name));
    }
  };

  before(async () => {
    pki = await createTestPki();
    const serverCa = await createRootCa({ commonName: 'Upstream Server CA' });
    clientCa = await createRootCa({ commonName: 'Upstream Client CA' });
    stranger = await issue(await createRootCa({ commonName: 'Another CA' }), 'stranger');
    edgeOne = await issue(clientCa, 'edge-one');
    const server = await issueServerCertificate(serverCa, { dnsNames: [UPSTREAM_NAME] });
    writeFileSync(join(pki.dir, 'upstream-ca.pem'), serverCa.certPem);
    writeClientFiles(edgeOne);
    upstream = await startUpstream('mtls', {
      tls: { cert: server.chainPem, key: server.keyPem, clientCa: clientCa.certPem },
      maxRequestsPerSocket: ROTATE_AFTER_REQUESTS,
    });
    strict12 = await startUpstream('mtls', {
      tls: { cert: server.chainPem, key: server.keyPem, clientCa: clientCa.certPem, maxVersion: 'TLSv1.2' },
    });
    const route = (host: string, extra: string, to = upstream.url) =>
      `  - from: https://${host}\n    to: ${to}\n    tls_upstream_server_name: ${UPSTREAM_NAME}\n` +
      `    tls_custom_ca_file: upstream-ca.pem\n    allow_public_unauthenticated_access: true\n${extra}`;
    const yaml =
      'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n' +
      'access_log_fields: [path, response-code, response-flags, response-code-details, ' +
      'upstream-transport-failure-reason]\nroutes:\n' +
      route(HOSTS.x, '    tls_client_cert_file: edge-client.pem\n    tls_client_key_file: edge-client-key.pem\n') +
      route(HOSTS.y, '', strict12.url) +
      route(
        HOSTS.z,
        `    tls_client_cert: ${b64(stranger.cert)}\n    tls_client_key: ${b64(stranger.key)}\n` +
          // Envoy must accept the renegotiation flag (a NACK would fail every test here).
          '    tls_upstream_allow_renegotiation: true\n',
        strict12.url,
      );
    edge = await startEdge({ dir: pki.dir, yaml, env: { LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    await edge?.stop();
    await upstream?.close();
    await strict12?.close();
  });

  const get = (host: string, path: string) => httpsGet({ port: edge.httpsPort, servername: host, ca: pki.caA, path });

  /** The access log entry of the one request to `path`. */
  async function entryFor(path: string): Promise<Entry> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = edge
        .output()
        .split('\n')
        .filter((l) => l.includes('"access"') && l.includes(path))
        .map((l) => (JSON.parse(l) as { access: Entry }).access)
        .filter((e) => e['path'] === path);
      if (found.length === 1) return found[0]!;
      assert.ok(found.length === 0, `${found.length} entries for ${path}`);
      if (Date.now() > deadline) assert.fail(`no access log entry for ${path}:\n${edge.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('200 with the configured certificate: the upstream sees its subject', async () => {
    const path = uniquePath('/with-certificate');
    const res = await get(HOSTS.x, path);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, `upstream mtls ${path}`);
    assert.equal(upstream.seen.find((s) => s.url === path)?.clientCn, 'edge-one');
    assert.equal((await edge.status()).rejected, null, 'Envoy accepted every resource');
  });

  // Each refusal as both ends saw it. Without a certificate the TLS 1.2 upstream refuses during the handshake with an
  // alert, which Envoy logs. A certificate from another CA is refused only after the handshake (Node checks it then
  // and closes without an alert): the upstream did get a certificate, and Envoy logs a closed connection.
  const NO_CERTIFICATE = 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE';
  for (const [what, host, sentNone, reason] of [
    ['without a client certificate', HOSTS.y, true, /SSLV3_ALERT_HANDSHAKE_FAILURE/],
    ['with a certificate from another CA', HOSTS.z, false, /^null$/],
  ] as const)
    it(`refused ${what}: the edge answers 503 and its access log says why`, async () => {
      const path = uniquePath('/refused');
      const refusedBefore = strict12.refusedHandshakes.length;
      const res = await get(host, path);
      assert.equal(res.status, 503, res.body);
      assert.equal(strict12.seen.filter((s) => s.url === path).length, 0);
      const refused = strict12.refusedHandshakes.slice(refusedBefore);
      assert.ok(refused.length > 0, 'the upstream refused a connection');
      for (const code of refused) assert.equal(code === NO_CERTIFICATE, sentNone, `the upstream says ${code}`);
      const e = await entryFor(path);
      assert.equal(e['response-code'], 503);
      assert.equal(e['response-flags'], 'UF');
      assert.match(
        String(e['response-code-details']),
        /^upstream_reset_before_response_started\{remote_connection_failure/,
      );
      assert.match(String(e['upstream-transport-failure-reason']), reason);
    });

  it('the private key is in no log, not in /status, not in Envoy config dump', async () => {
    const keyBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    const dump = await (await fetch(`${edge.envoyAdminUrl}/config_dump?include_eds`)).text();
    // The cluster names its secret; Envoy holds the secret and shows it with the key redacted.
    assert.match(dump, /"name": "upstream-client-cert-[0-9a-f]{16}"/);
    assert.match(dump, /"private_key":\s*\{\s*"inline_string":\s*"\[redacted\]"/);
    const status = await (await fetch(`${edge.adminUrl}/status`)).text();
    for (const [where, text] of [
      ['config dump', dump],
      ['/status', status],
      ['the logs', edge.output()],
    ] as const) {
      assert.doesNotMatch(text, /PRIVATE KEY/, where);
      for (const key of [edgeOne.key, stranger.key])
        for (const line of keyBody(key)) assert.ok(!text.includes(line), `${where} holds a key`);
    }
  });

  it('replacing its files rotates the certificate under load: no failed request, new connections use it', async () => {
    const edgeTwo = await issue(clientCa, 'edge-two');
    const target = {
      port: edge.httpsPort,
      host: HOSTS.x,
      path: '/rotation',
      ca: pki.caA,
      ...pki.clientA,
      expect: (status: number, body: string) => status === 200 && body === 'upstream mtls /rotation',
    };
    const loads = [steadyLoad(target, 'h1'), steadyLoad(target, 'h2')];
    const seenBefore = upstream.seen.length;
    const lastSeen = () => upstream.seen.slice(-ROTATE_AFTER_REQUESTS * 2);
    let tallies: Tally[];
    // The loads stop whatever happens: a failed wait must not leave them running (and the test process alive).
    try {
      await new Promise((r) => setTimeout(r, 500));
      const reloads = (await edge.status()).reload.reloads;
      writeClientFiles(edgeTwo);
      await edge.waitForStatus((s) => s.reload.reloads > reloads && s.synced, 15_000);
      // The upstream closes each connection after ROTATE_AFTER_REQUESTS requests: the edge opens new ones.
      const deadline = Date.now() + 15_000;
      while (!lastSeen().every((s) => s.clientCn === 'edge-two') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
    } finally {
      tallies = await Promise.all(loads.map((l) => l.stop()));
    }
    const during = upstream.seen.slice(seenBefore).filter((s) => s.url === '/rotation');
    assert.ok(
      during.some((s) => s.clientCn === 'edge-one'),
      'the old certificate served before the rotation',
    );
    assert.deepEqual(
      lastSeen().map((s) => s.clientCn),
      lastSeen().map(() => 'edge-two'),
    );
    for (const t of tallies) {
      assert.deepEqual(t.failed, []);
      assert.ok(t.ok > 20, `only ${t.ok} requests`);
    }
    assert.deepEqual((await edge.status()).reload.errors, []);
  });
});
