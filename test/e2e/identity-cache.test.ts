// Issue 14: Envoy keeps the ext_authz service's allows per worker (translate/http-filters/identity-cache.ts). A
// certificate costs one Check per route and worker, not one per request; and every change to what is decided (a
// policy edit, a revocation, a new signing key) and the certificate's own expiry is felt by the very next request,
// also on connections that stay open.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { createCrl, issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { applyConfig } from '../support/config-edits.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { openConnection, type OpenConnection, type Outcome } from '../support/open-connections.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const PROTOCOLS = ['HTTP/1.1', 'HTTP/2'] as const;

function signingKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

describe('the identity cache: one Check per certificate, route and worker; the next request sees every change', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;
  const settings = { userPolicy: 'alice', accessLog: 'time, response-code' };
  // y: identity headers for any valid certificate; x: a `user` policy only the service can decide.
  const config = () => `certificate_file: server.pem
certificate_key_file: server-key.pem
signing_key_file: signing-key.pem
downstream_mtls:
  ca_file: ca-a.pem
  crl_file: crl.pem
jwt_claims_headers: [email]
access_log_fields: [${settings.accessLog}]
routes:
  - from: https://${HOSTS.y}
    to: ${up.url}
    allow_any_authenticated_user: true
    pass_identity_headers: true
  - from: https://${HOSTS.x}
    to: ${up.url}
    policy:
      - allow:
          or:
            - user:
                is: ${settings.userPolicy}
`;
  const crlFile = () => join(pki.dir, 'crl.pem');

  before(async () => {
    pki = await createTestPki();
    up = await startUpstream('identity-cache');
    writeFileSync(join(pki.dir, 'signing-key.pem'), signingKeyPem(), { mode: 0o600 });
    writeFileSync(crlFile(), await createCrl(pki.caAuthority, []));
    edge = await startEdge({ dir: pki.dir, yaml: config() });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  const checks = () => edge.authzChecks();
  const connect = (protocol: (typeof PROTOCOLS)[number], host: string, who: ClientCert) =>
    openConnection[protocol]({ port: edge.httpsPort, servername: host, ca: pki.caA, ...who });
  const status = (o: Outcome) => ('status' in o ? o.status : o.error);
  const seenAt = (path: string) => up.seen.filter((s) => s.url === path);

  it('answers repeats from the cache: the same JWT, no Check; a look-alike certificate has its own entry', async () => {
    const before = await checks();
    const jwts = new Set<string>();
    let requests = 0;
    for (const protocol of PROTOCOLS) {
      for (let c = 0; c < 3; c++) {
        const conn = await connect(protocol, HOSTS.y, pki.clientA);
        try {
          for (let i = 0; i < 10; i++, requests++) {
            const path = `/hits/${protocol}/${c}/${i}`;
            assert.equal(status(await conn.get(path)), 200, path);
            jwts.add(String(seenAt(path)[0]?.headers['x-pomerium-jwt-assertion']));
          }
        } finally {
          conn.close();
        }
      }
    }
    // The test harness runs Envoy with one worker: one cache, one miss.
    assert.equal((await checks()) - before, 1, `Checks for ${requests} requests`);
    assert.equal(jwts.size, 1, 'one assertion for the certificate, from the first Check');

    // Same subject and email, another key pair: another certificate, asked about on its own.
    const twin = await issueClientCertificate(pki.caAuthority, { commonName: 'alice', email: 'alice@example.com' });
    const conn = await connect('HTTP/1.1', HOSTS.y, { cert: twin.certPem, key: twin.keyPem });
    try {
      const beforeTwin = await checks();
      assert.equal(status(await conn.get('/twin')), 200);
      assert.equal((await checks()) - beforeTwin, 1, "the twin was not served from alice's entry");
      assert.notEqual(String(seenAt('/twin')[0]?.headers['x-pomerium-jwt-assertion']), [...jwts][0]);
    } finally {
      conn.close();
    }
  });

  it('a listener change keeps the entries: the routes still decide the same, so no new Check', async () => {
    const issued = await issueClientCertificate(pki.caAuthority, { commonName: 'lena', email: 'lena@example.com' });
    const lena = { cert: issued.certPem, key: issued.keyPem };
    for (const c of await openAndWarm(HOSTS.y, lena, 'listener')) c.close();
    const listeners = async () =>
      (await edge.envoyStats('listener_manager.'))['listener_manager.listener_modified'] ?? 0;
    const modified = await listeners();
    settings.accessLog = 'time, response-code, path';
    await applyConfig(edge, config());
    assert.ok((await listeners()) > modified, 'the edit changed the listener');
    const before = await checks();
    const conn = await connect('HTTP/1.1', HOSTS.y, lena);
    try {
      assert.equal(status(await conn.get('/listener/after')), 200);
    } finally {
      conn.close();
    }
    assert.equal((await checks()) - before, 0, 'answered from the entry kept across the listener change');
  });

  it('never keeps a deny: each request of a refused certificate is a Check', async () => {
    const conn = await connect('HTTP/2', HOSTS.x, await otherUser(pki));
    try {
      const before = await checks();
      for (let i = 0; i < 4; i++) assert.equal(status(await conn.get(`/denied/${i}`)), 403);
      assert.equal((await checks()) - before, 4);
      assert.deepEqual(seenAt('/denied/0'), []);
    } finally {
      conn.close();
    }
  });

  it('a policy edit: the next request on an open connection is decided anew (403)', async () => {
    const open = await openAndWarm(HOSTS.x, pki.clientA, 'policy');
    settings.userPolicy = 'somebody-else';
    await applyConfig(edge, config());
    await expectRefused(open, 'policy', 403);
    settings.userPolicy = 'alice';
    await applyConfig(edge, config());
  });

  it('a revocation: the next request on an open connection is refused (495), never reaching the upstream', async () => {
    const revoked = await issueClientCertificate(pki.caAuthority, { commonName: 'rita', email: 'rita@example.com' });
    const open = await openAndWarm(HOSTS.y, { cert: revoked.certPem, key: revoked.keyPem }, 'revoked');
    const crl = await createCrl(pki.caAuthority, [revoked.serialHex]);
    await applyConfig(edge, config(), () => writeFileSync(crlFile(), crl));
    await expectRefused(open, 'revoked', 495);
  });

  it('a new signing key: the next request carries an assertion signed with it', async () => {
    const open = await openAndWarm(HOSTS.y, pki.clientA, 'rotation');
    const kidBefore = decodeProtectedHeader(
      String(seenAt('/rotation/HTTP/1.1/warm/1')[0]?.headers['x-pomerium-jwt-assertion']),
    ).kid;
    writeFileSync(join(pki.dir, 'signing-key.pem'), signingKeyPem(), { mode: 0o600 });
    await applyConfig(edge, config());
    for (const conn of open) {
      const path = `/rotation/${conn.protocol}/after`;
      assert.equal(status(await conn.get(path)), 200);
      const kid = decodeProtectedHeader(String(seenAt(path)[0]?.headers['x-pomerium-jwt-assertion'])).kid;
      assert.ok(kid && kid !== kidBefore, `${conn.protocol}: kid ${kid} after the rotation, ${kidBefore} before`);
      conn.close();
    }
  });

  it("a certificate's expiry: past its notAfter, an open connection's next request is refused", async () => {
    const notAfter = new Date(Date.now() + 10_000);
    const expiring = await issueClientCertificate(pki.caAuthority, {
      commonName: 'brief',
      notBefore: new Date(Date.now() - 60_000),
      notAfter,
    });
    const open = await openAndWarm(HOSTS.y, { cert: expiring.certPem, key: expiring.keyPem }, 'expiry');
    await new Promise((r) => setTimeout(r, notAfter.getTime() + 1_500 - Date.now()));
    await expectRefused(open, 'expiry', 495);
  });

  /**
   * A connection per protocol, each asked twice and answered 200 each time: one Check in all (the first request),
   * so every later answer came from Envoy's cache, and what follows shows a change getting past it.
   */
  async function openAndWarm(host: string, who: ClientCert, tag: string): Promise<OpenConnection[]> {
    const open: OpenConnection[] = [];
    const before = await checks();
    for (const protocol of PROTOCOLS) {
      const conn = await connect(protocol, host, who);
      open.push(conn);
      for (const i of [0, 1]) assert.equal(status(await conn.get(`/${tag}/${protocol}/warm/${i}`)), 200);
    }
    assert.equal((await checks()) - before, 1, `${tag}: one Check, then answers from the cache`);
    return open;
  }

  async function expectRefused(open: OpenConnection[], tag: string, expected: number): Promise<void> {
    for (const conn of open) {
      const path = `/${tag}/${conn.protocol}/after`;
      const outcome = await conn.get(path);
      conn.close();
      // A connection Envoy closed instead of answering is refused too.
      if ('status' in outcome)
        assert.equal(outcome.status, expected, `${conn.protocol}: ${outcome.body.slice(0, 200)}`);
      assert.deepEqual(seenAt(path), [], `${conn.protocol}: the request reached the upstream`);
    }
  }
});

/** A valid certificate of CA A whose user the x route's policy does not name. */
async function otherUser(pki: TestPki): Promise<ClientCert> {
  const c = await issueClientCertificate(pki.caAuthority, { commonName: 'mallory', email: 'mallory@example.com' });
  return { cert: c.certPem, key: c.keyPem };
}
