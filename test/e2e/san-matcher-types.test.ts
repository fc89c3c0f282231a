// downstream_mtls.match_subject_alt_names by SAN type, in real Envoy: a URI matcher reads only URI SANs, a
// user_principal_name matcher only the UPN otherName (by its OID), never an email SAN with the same text.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueClientCertificate, type ClientCertOptions } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('SAN matchers of each type (reject_connection): uri and user_principal_name', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;
  const certs = {} as Record<'uri' | 'upn' | 'emailLikeUpn' | 'otherUri' | 'otherUpn' | 'dnsLikeUri', ClientCert>;
  before(async () => {
    pki = await createTestPki();
    const issue = async (o: Omit<ClientCertOptions, 'commonName'>) => {
      const c = await issueClientCertificate(pki.caAuthority, { commonName: 'client', ...o });
      return { cert: c.certPem, key: c.keyPem };
    };
    certs.uri = await issue({ uris: ['spiffe://corp.example/svc'] });
    certs.upn = await issue({ userPrincipalNames: ['carol@corp.example'] });
    certs.emailLikeUpn = await issue({ email: 'carol@corp.example' });
    certs.otherUri = await issue({ uris: ['spiffe://other.example/svc'] });
    certs.otherUpn = await issue({ userPrincipalNames: ['carol@other.example'] });
    certs.dnsLikeUri = await issue({ dnsNames: ['corp.example'], uris: ['https://corp.example/svc'] });
    up = await startUpstream('u');
    edge = await startEdge({
      dir: pki.dir,
      yaml:
        'certificate_file: server.pem\ncertificate_key_file: server-key.pem\ndownstream_mtls:\n' +
        '  ca_file: ca-a.pem\n  enforcement: reject_connection\n  match_subject_alt_names:\n' +
        '    - uri: spiffe://corp\\.example/.*\n    - user_principal_name: .*@corp\\.example\n' +
        `routes:\n  - from: https://${HOSTS.x}\n    to: ${up.url}\n    allow_any_authenticated_user: true\n`,
    });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });
  const request = (c: ClientCert) => ({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, path: '/p', ...c });

  it('a matching URI SAN, and a matching UPN, are each admitted', async () => {
    assert.deepEqual(await httpsGet(request(certs.uri)), { status: 200, body: 'upstream u /p' });
    assert.deepEqual(await httpsGet(request(certs.upn)), { status: 200, body: 'upstream u /p' });
  });
  it(
    "an email SAN with the UPN matcher's text, a URI or UPN that " +
      'does not match, other SAN types: refused at the handshake',
    async () => {
      const seen = up.seen.length;
      for (const c of [certs.emailLikeUpn, certs.otherUri, certs.otherUpn, certs.dnsLikeUri])
        assert.match(await expectHandshakeRefused(request(c)), /ALERT/);
      assert.equal(up.seen.length, seen);
    },
  );
});
