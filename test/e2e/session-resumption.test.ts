// Issue 14 (4), DESIGN.md TLS point 7: a client that reconnects resumes its TLS session on the chain that made it
// (TLS 1.3 tickets, TLS 1.2 tickets and session ids), where the handshake demands a valid certificate. A session
// never crosses chains, never outlives a narrowing, and never outlives its certificate: Envoy does not verify a
// certificate again when a session resumes, so the ext_authz service does (translate/session-resumption.ts).
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createCrl,
  createRootCa,
  issueClientCertificate,
  type CertificateAuthority,
} from '../../control-plane/src/pki/index.js';
import { runCli, startEdge, type RunningEdge } from '../support/edge.js';
import { openHttp1 } from '../support/open-connections.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { requestOverSession, SESSION_KINDS, type SessionOutcome } from '../support/tls-session.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const KINDS = SESSION_KINDS;

describe('TLS sessions resume within a chain that demands a valid certificate, and nowhere else', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;
  // y's CA, with a CRL of its own: where intermediates are accepted, every CA needs one (Envoy checks them all).
  let caY: CertificateAuthority;
  const revoked: string[] = [];
  // x: CA A (and its CRL, and its intermediate's: intermediates are accepted), a policy Envoy decides; y: CA Y;
  // z: no client CA. reject_connection throughout.
  const config = () => `certificate_file: server.pem
certificate_key_file: server-key.pem
signing_key_file: signing-key.pem
downstream_mtls:
  crl_file: crl.pem
  enforcement: reject_connection
  max_verify_depth: 0
routes:
  - from: https://${HOSTS.x}
    prefix: /san-deny
    to: ${up.url}
    tls_downstream_client_ca_file: ca-a.pem
    policy:
      - allow:
          or:
            - authenticated_user: true
      - deny:
          or:
            - client_certificate: { san_email: mallory@example.com }
  - from: https://${HOSTS.x}
    prefix: /san-allow
    to: ${up.url}
    tls_downstream_client_ca_file: ca-a.pem
    policy:
      - allow:
          or:
            - client_certificate: { san_email: alice@example.com }
  - from: https://${HOSTS.x}
    to: ${up.url}
    tls_downstream_client_ca_file: ca-a.pem
    policy:
      - allow:
          or:
            - email:
                is: alice@example.com
  - from: https://${HOSTS.y}
    to: ${up.url}
    tls_downstream_client_ca_file: ca-y.pem
    allow_any_authenticated_user: true
  - from: https://${HOSTS.z}
    to: ${up.url}
    allow_public_unauthenticated_access: true
`;
  const writeCrl = async () => {
    const crls = [
      await createCrl(pki.caAuthority, revoked),
      await createCrl(pki.intermediateA, []),
      await createCrl(caY, []),
    ];
    writeFileSync(join(pki.dir, 'crl.tmp'), crls.join(''));
    renameSync(join(pki.dir, 'crl.tmp'), join(pki.dir, 'crl.pem'));
  };

  before(async () => {
    pki = await createTestPki();
    assert.equal((await runCli(['certs', 'signing-key', '--dir', pki.dir])).code, 0);
    caY = await createRootCa({ commonName: 'Test CA Y' });
    writeFileSync(join(pki.dir, 'ca-y.pem'), caY.certPem);
    await writeCrl();
    up = await startUpstream('resumed');
    // A long drain: a connection open across a trust change stays open, so its next request is decided, not cut.
    edge = await startEdge({ dir: pki.dir, yaml: config(), drainTimeSeconds: 60 });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  const checks = () => edge.authzChecks();
  const newClient = async (name: string, notAfter?: Date) => {
    const c = await issueClientCertificate(pki.caAuthority, {
      commonName: name,
      email: `${name}@example.com`,
      ...(notAfter ? { notBefore: new Date(Date.now() - 60_000), notAfter } : {}),
    });
    return { client: { cert: c.certPem, key: c.keyPem }, serialHex: c.serialHex };
  };
  const request = (kind: (typeof KINDS)[number], host: string, client?: ClientCert, offered?: Buffer, path = '/') =>
    requestOverSession({
      port: edge.httpsPort,
      servername: host,
      ca: pki.caA,
      ...(client ? { client } : {}),
      version: kind.version,
      sessionIds: kind.sessionIds,
      ...(offered ? { offered } : {}),
      path,
    });
  /** A full handshake, then `times` connections that each offer the session the one before got. */
  const resumeRepeatedly = async (kind: (typeof KINDS)[number], host: string, client: ClientCert, times: number) => {
    const first = await request(kind, host, client);
    const after: SessionOutcome[] = [];
    let session = first.session;
    for (let i = 0; i < times; i++) {
      const next = await request(kind, host, client, session);
      after.push(next);
      session = next.session ?? session;
    }
    return { first, after };
  };

  for (const kind of KINDS) {
    it(`${kind.name}: resumes on its chain, served as its certificate: alice 200, bob 403`, async () => {
      // A certificate of its own: the identity cache still holds the ones other tests verified.
      const { client } = await newClient('alice');
      const before = await checks();
      const alice = await resumeRepeatedly(kind, HOSTS.x, client, 3);
      assert.equal(alice.first.reused, false, 'the first connection is a full handshake');
      assert.equal(alice.first.status, 200);
      for (const [i, o] of alice.after.entries()) assert.deepEqual([o.reused, o.status], [true, 200], `resumed #${i}`);
      // The resumed sessions' certificate is verified again by the service, once: the identity cache keeps it.
      assert.equal((await checks()) - before, 1, 'Checks for three resumed connections');

      const bob = await resumeRepeatedly(kind, HOSTS.x, (await newClient('bob')).client, 1);
      assert.deepEqual([bob.first.status, bob.after[0]?.reused, bob.after[0]?.status], [403, true, 403]);
    });
  }

  it('under an intermediate: resumed sessions are served (the service is sent the chain)', async () => {
    const issued = await issueClientCertificate(pki.intermediateA, { commonName: 'alice', email: 'alice@example.com' });
    const viaIntermediate = { cert: issued.chainPem, key: issued.keyPem };
    for (const kind of KINDS) {
      const { first, after } = await resumeRepeatedly(kind, HOSTS.x, viaIntermediate, 2);
      assert.deepEqual(
        [first.status, ...after.map((o) => [o.reused, o.status])],
        [200, [true, 200], [true, 200]],
        kind.name,
      );
    }
  });

  // Envoy's SAN principal (mtls_authenticated) says no to a certificate it did not verify on the connection: on a
  // resumed session the service decides the whole policy, so SAN rules keep their meaning.
  it('SAN rules mean on a resumed session what they mean at a handshake: deny, allow, a comma in a SAN', async () => {
    const issue = async (email: string) => {
      const c = await issueClientCertificate(pki.caAuthority, { commonName: 'someone', email });
      return { cert: c.certPem, key: c.keyPem };
    };
    const cases = [
      { who: await issue('mallory@example.com'), path: '/san-deny/x', status: 403 },
      { who: await issue('alice@example.com'), path: '/san-deny/x', status: 200 },
      { who: await issue('alice@example.com'), path: '/san-allow/x', status: 200 },
      { who: await issue('mallory@example.com'), path: '/san-allow/x', status: 403 },
      // One email SAN that holds a comma: not alice, whatever a comma-joined list would suggest.
      { who: await issue('alice@example.com,zz'), path: '/by-email', status: 403 },
    ];
    for (const kind of KINDS) {
      for (const { who, path, status } of cases) {
        const first = await request(kind, HOSTS.x, who, undefined, path);
        const resumed = await request(kind, HOSTS.x, who, first.session, path);
        assert.deepEqual(
          [first.status, resumed.reused, resumed.status],
          [status, true, status],
          `${kind.name} ${path}`,
        );
      }
    }
  });

  it('a session never crosses chains: not to another CA, not to the host without one', async () => {
    for (const kind of KINDS) {
      const { first } = await resumeRepeatedly(kind, HOSTS.x, pki.clientA, 0);
      assert.ok(first.session, `${kind.name}: a session to offer`);
      // CA Y's chain: the session is not resumed, so the handshake asks for a certificate of CA Y.
      const other = await request(kind, HOSTS.y, pki.clientA, first.session);
      assert.equal(other.reused, false, `${kind.name}: resumed on CA Y's chain`);
      assert.equal(typeof other.status, 'string', `${kind.name}: CA Y's chain served a CA A certificate`);
      const open = await request(kind, HOSTS.z, undefined, first.session);
      assert.deepEqual([open.reused, open.status], [false, 200], `${kind.name}: on the host without a CA`);
      // And the other way: a session of the host without a CA does not open CA A's host.
      const fromOpen = await request(kind, HOSTS.z);
      const into = await request(kind, HOSTS.x, undefined, fromOpen.session);
      assert.equal(into.reused, false, `${kind.name}: a session of the open host resumed on CA A's chain`);
      assert.equal(typeof into.status, 'string', `${kind.name}: served without a certificate`);
    }
  });

  it('a resumed session does not outlive its certificate: past notAfter it is 495, a new handshake fails', async () => {
    const expiring = await newClient('alice', new Date(Date.now() + 6_000));
    const sessions = [];
    for (const kind of KINDS) {
      const { first, after } = await resumeRepeatedly(kind, HOSTS.x, expiring.client, 1);
      assert.deepEqual([first.status, after[0]?.reused, after[0]?.status], [200, true, 200], kind.name);
      sessions.push({ kind, session: after[0]?.session ?? first.session });
    }
    await new Promise((r) => setTimeout(r, 7_000));
    for (const { kind, session } of sessions) {
      const resumed = await request(kind, HOSTS.x, expiring.client, session, '/expired');
      assert.deepEqual([resumed.reused, resumed.status], [true, 495], `${kind.name}: resumed past notAfter`);
      const full = await request(kind, HOSTS.x, expiring.client);
      assert.equal(typeof full.status, 'string', `${kind.name}: a new handshake with the expired certificate`);
    }
    assert.equal(up.seen.filter((s) => s.url === '/expired').length, 0, 'nothing past notAfter reached the upstream');
  });

  it('a session made before a narrowing (a revocation) never resumes after it', async () => {
    const victim = await newClient('vera');
    const sessions = [];
    for (const kind of KINDS) {
      const { after } = await resumeRepeatedly(kind, HOSTS.x, victim.client, 1);
      assert.equal(after[0]?.reused, true, `${kind.name}: resumed before the change`);
      sessions.push({ kind, session: after[0]?.session });
    }
    // And a connection that resumed a session before the change and stays open: decided against the current trust.
    const { session: kept } = await request(KINDS[0], HOSTS.x, victim.client);
    const open = await openHttp1({
      port: edge.httpsPort,
      servername: HOSTS.x,
      ca: pki.caA,
      ...victim.client,
      session: kept,
    });
    assert.equal(open.resumed, true, 'the open connection resumed a session');
    const before = await open.get('/san-deny/before');
    assert.equal('status' in before ? before.status : before.error, 200, 'served before the change');
    const { configVersion } = await edge.status();
    revoked.push(victim.serialHex);
    await writeCrl();
    await edge.waitForStatus((s) => s.configVersion !== configVersion && s.synced && s.reload.errors.length === 0);
    for (const { kind, session } of sessions) {
      const o = await request(kind, HOSTS.x, victim.client, session, '/revoked');
      assert.equal(o.reused, false, `${kind.name}: resumed after the revocation`);
      assert.equal(typeof o.status, 'string', `${kind.name}: the revoked certificate was served`);
    }
    const after = await open.get('/san-deny/revoked');
    open.close();
    assert.equal('status' in after ? after.status : after.error, 495, 'the open resumed connection, after');
    // The others' sessions still resume on the new chain once they have one.
    const alice = await resumeRepeatedly(KINDS[0], HOSTS.x, pki.clientA, 1);
    assert.deepEqual([alice.after[0]?.reused, alice.after[0]?.status], [true, 200]);
    assert.equal(up.seen.filter((s) => s.url === '/revoked' || s.url === '/san-deny/revoked').length, 0);
  });
});
