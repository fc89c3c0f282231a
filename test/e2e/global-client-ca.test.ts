import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { seenSince } from '../support/seen.js';
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

  const get = (extra: { cert?: string; key?: string } = {}) => ({
    port: edge.httpsPort,
    servername: HOSTS.x,
    ca: pki.caA,
    path: '/hello',
    ...extra,
  });

  // Each test counts only its own requests at the upstream, so that it passes alone and in any order.
  const refusedBeforeUpstream = async (client: { cert?: string; key?: string }, alert: RegExp) => {
    const seen = seenSince(upstream);
    assert.match(await expectHandshakeRefused(get(client)), alert);
    assert.equal(seen.count(), 0, 'a refused client reached the upstream');
  };
  const served = async (client: { cert: string; key: string }) => {
    const seen = seenSince(upstream);
    const res = await httpsGet(get(client));
    assert.equal(res.status, 200);
    assert.equal(res.body, 'upstream x /hello');
    assert.equal(seen.count(), 1);
  };

  it('refuses a client without a certificate, before the upstream', () =>
    refusedBeforeUpstream({}, /CERTIFICATE_REQUIRED/));

  it('refuses a certificate from another CA, before the upstream', () =>
    refusedBeforeUpstream(pki.clientB, /UNKNOWN_CA/));

  it('refuses an expired certificate from the right CA, before the upstream', () =>
    refusedBeforeUpstream(pki.expiredA, /CERTIFICATE_EXPIRED/));

  it('serves a certificate issued directly by the CA', () => served(pki.clientA));

  it('serves a certificate issued through an intermediate of the CA', () => served(pki.clientAViaIntermediate));
});
