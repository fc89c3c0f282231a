// Issue 14 (4): where a handshake also completes without a valid certificate (the policy enforcements), Envoy
// hands out nothing to resume: it would report a resumed session's certificate as not validated, and could not tell
// a session of a verified certificate from one of a refused certificate (translate/session-resumption.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { requestOverSession, SESSION_KINDS as KINDS } from '../support/tls-session.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('where the handshake also completes without a valid certificate, every connection is a full handshake', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;

  before(async () => {
    pki = await createTestPki();
    up = await startUpstream('full');
    // policy_with_default_deny: Envoy would report a resumed session's certificate as not validated (495), and
    // could not tell a session of a verified certificate from one of a refused certificate.
    edge = await startEdge({
      dir: pki.dir,
      yaml: `certificate_file: server.pem
certificate_key_file: server-key.pem
downstream_mtls:
  ca_file: ca-a.pem
  enforcement: policy_with_default_deny
routes:
  - from: https://${HOSTS.x}
    to: ${up.url}
    allow_any_authenticated_user: true
`,
    });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  for (const kind of KINDS) {
    it(`${kind.name}: no session to resume is handed out`, async () => {
      const request = () =>
        requestOverSession({
          port: edge.httpsPort,
          servername: HOSTS.x,
          ca: pki.caA,
          client: pki.clientA,
          version: kind.version,
          sessionIds: kind.sessionIds,
        });
      const first = await request();
      assert.equal(first.status, 200);
      // Envoy hands out nothing to resume here: no ticket, no session id.
      assert.equal(first.session, undefined, 'a session to resume');
    });
  }
});
