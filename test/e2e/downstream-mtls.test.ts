import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCrl, createRootCa, issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { expectHandshakeRefused, httpsGet, rawHttp1, type ClientRequest } from '../support/https-client.js';
import { HOSTS, type ClientCert } from '../support/pki-fixture.js';
import { onlyRequestFor, uniquePath } from '../support/seen.js';
import { DAY, client, withEdge, SERVER, route } from './downstream-mtls-fixture.js';

describe('downstream_mtls with its default enforcement (policy_with_default_deny): 495, not a TLS alert', () => {
  const ctx = withEdge(
    (up) =>
      `${SERVER}forward_client_cert: [subject, dns]\ndownstream_mtls:\n  ca_file: ca-a.pem\nroutes:\n` +
      route(
        HOSTS.x,
        up.url,
        '    set_request_headers:\n' +
          '      X-Client-Fingerprint: "${pomerium.client_cert_fingerprint}"\n      X-Client-Email: ' +
          '"${pomerium.client_cert_san_email}"\n      X-Literal: "100% $$real"\n    allow_any_authenticated_user: true',
      ),
  );
  const get = (extra: Partial<ClientRequest> = {}) =>
    httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path: '/p', ...extra });

  it('no certificate: the handshake succeeds and the request gets a 495 page, never the upstream', async () => {
    const before = ctx.up.seen.length;
    const res = await get();
    assert.equal(res.status, 495);
    assert.match(res.body, /<h1>A valid client certificate is required<\/h1>/);
    assert.match(res.body, /did not send a client certificate/);
    assert.equal(ctx.up.seen.length, before);
  });
  it('JSON for a client that asks for it', async () => {
    const res = await get({ headers: { accept: 'application/json' } });
    assert.equal(res.status, 495);
    assert.deepEqual(JSON.parse(res.body), {
      status: 495,
      error: 'client_certificate_required',
      message: 'Your browser did not send a client certificate.',
    });
  });
  it('a certificate from another CA, or an expired one: 495 naming an invalid certificate', async () => {
    for (const c of [ctx.pki.clientB, ctx.pki.expiredA]) {
      const res = await get(c);
      assert.equal(res.status, 495);
      assert.match(res.body, /not valid here/);
    }
  });
  it('a valid certificate reaches the upstream', async () => {
    assert.deepEqual(await get(ctx.pki.clientA), { status: 200, body: 'upstream u /p' });
  });
  it(
    'identity headers a client forges are removed before ' + 'the upstream; the certificate details set are real',
    async () => {
      const path = uniquePath('/p/forged');
      const res = await get({
        ...ctx.pki.clientA,
        path,
        headers: {
          'x-pomerium-jwt-assertion': 'forged',
          'x-pomerium-claim-email': 'ceo@example.com',
          'x-forwarded-client-cert': 'By=forged;Subject="CN=ceo"',
          'x-client-email': 'ceo@example.com',
          'x-kept': 'yes',
        },
      });
      assert.equal(res.status, 200);
      // This test's own request, found by its path: not whatever an earlier test left last in the log.
      const seen = onlyRequestFor(ctx.up, path).headers;
      assert.equal(seen['x-pomerium-jwt-assertion'], undefined);
      assert.equal(seen['x-pomerium-claim-email'], undefined);
      assert.equal(seen['x-kept'], 'yes');
      const der = new X509Certificate(ctx.pki.clientA.cert).raw;
      assert.equal(seen['x-client-fingerprint'], createHash('sha256').update(der).digest('hex'));
      assert.equal(seen['x-client-email'], 'alice@example.com');
      assert.equal(seen['x-literal'], '100% $real');
      // forward_client_cert: Envoy's own header from the verified certificate, the client's is gone.
      const xfcc = String(seen['x-forwarded-client-cert']);
      assert.doesNotMatch(xfcc, /forged|CN=ceo/);
      assert.match(xfcc, new RegExp(`Hash=${createHash('sha256').update(der).digest('hex')}`));
      assert.match(xfcc, /Subject="CN=alice"/);
    },
  );
});

describe(
  'enforcement: policy — only routes that need a user ' + 'ask for a certificate; path tricks cannot dodge it',
  () => {
    const ctx = withEdge(
      (up) =>
        `${SERVER}forward_client_cert: [subject, uri]\ndownstream_mtls:\n ` +
        ` ca_file: ca-a.pem\n  enforcement: policy\nroutes:\n` +
        route(HOSTS.x, up.url, '    prefix: /admin\n    allow_any_authenticated_user: true') +
        route(HOSTS.x, up.url, '    allow_public_unauthenticated_access: true'),
    );
    const get = (path: string, extra: Partial<ClientRequest> = {}) =>
      rawHttp1({ port: ctx.edge.httpsPort, servername: HOSTS.x, host: HOSTS.x, path, ...extra });

    it('the public route never passes on an unverified certificate (x-forwarded-client-cert is dropped)', async () => {
      const stranger = await createRootCa({ commonName: 'Stranger CA' });
      const forged = await issueClientCertificate(stranger, { commonName: 'admin' });
      const path = uniquePath('/open/forged');
      assert.equal((await get(path, { cert: forged.certPem, key: forged.keyPem })).status, 200);
      assert.equal(onlyRequestFor(ctx.up, path).headers['x-forwarded-client-cert'], undefined);
    });

    it('the public route answers without a certificate; the protected one gets 495', async () => {
      assert.equal((await get('/open')).status, 200);
      assert.equal((await get('/admin/x')).status, 495);
      assert.equal((await get('/admin/x', ctx.pki.clientA)).status, 200);
    });
    it('/public/../admin, %2e%2e, // and %2F do not reach /admin without a certificate', async () => {
      for (const path of [
        '/open/../admin/x',
        '/open/%2e%2e/admin/x',
        '//admin/x',
        '/admin%2Fx',
        '/open/..%2Fadmin/x',
        '/ADMIN/../admin/x',
      ]) {
        const before = ctx.up.seen.filter((r) => r.url.startsWith('/admin')).length;
        const res = await get(path);
        assert.ok(
          res.status === 495 || (res.status >= 300 && res.status < 400) || res.status === 400,
          `${path}: ${res.status}`,
        );
        assert.equal(ctx.up.seen.filter((r) => r.url.startsWith('/admin')).length, before, `${path} reached /admin`);
      }
    });
  },
);

describe('reject_connection with a CRL, SAN matchers and max_verify_depth 1', () => {
  const extra = {} as Record<
    'revoked' | 'otherDomain' | 'serverOnly' | 'notYetValid' | 'caAsClient' | 'good' | 'victim' | 'commaDns',
    ClientCert
  >;
  const ctx = withEdge(
    (up) =>
      `${SERVER}downstream_mtls:\n  ca_file: ca-a.pem\n  crl_file: ` +
      `crl.pem\n  enforcement: reject_connection\n  max_verify_depth: ` +
      `1\n  match_subject_alt_names:\n    - email: .*@example\\.com\n ` +
      `   - dns: victim\\.ex\nroutes:\n${route(HOSTS.x, up.url)}`,
    async (pki) => {
      const a = pki.caAuthority;
      extra.victim = client(
        await issueClientCertificate(a, { commonName: 'vic', email: 'vic@other.test', dnsNames: ['victim.ex'] }),
      );
      extra.commaDns = client(
        await issueClientCertificate(a, {
          commonName: 'eve',
          email: 'eve@other.test',
          dnsNames: ['evil.ex,victim.ex'],
        }),
      );
      const revoked = await issueClientCertificate(a, { commonName: 'mallory', email: 'mallory@example.com' });
      extra.revoked = client(revoked);
      extra.good = client(await issueClientCertificate(a, { commonName: 'dave', email: 'dave@example.com' }));
      extra.otherDomain = client(await issueClientCertificate(a, { commonName: 'oscar', email: 'oscar@other.test' }));
      extra.serverOnly = client(
        await issueClientCertificate(a, {
          commonName: 'srv',
          email: 'srv@example.com',
          extendedKeyUsage: 'serverAuth',
        }),
      );
      extra.notYetValid = client(
        await issueClientCertificate(a, {
          commonName: 'future',
          email: 'future@example.com',
          notBefore: new Date(Date.now() + DAY),
          notAfter: new Date(Date.now() + 10 * DAY),
        }),
      );
      extra.caAsClient = { cert: pki.intermediateA.certPem, key: pki.intermediateA.keyPem };
      writeFileSync(join(pki.dir, 'crl.pem'), await createCrl(a, [revoked.serialHex]));
    },
  );
  const refused = (c: ClientCert) =>
    expectHandshakeRefused({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, ...c });

  it('a certificate from the CA with a matching SAN is accepted', async () => {
    assert.equal(
      (await httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, ...extra.good })).status,
      200,
    );
  });
  it('a revoked certificate is refused', async () => assert.match(await refused(extra.revoked), /CERTIFICATE_REVOKED/));
  it('a certificate whose SANs do not match is refused', async () =>
    assert.match(await refused(extra.otherDomain), /ALERT/));
  it(
    'each SAN is matched whole: DNS SAN victim.ex passes ' + '`dns: victim\\.ex`, one SAN evil.ex,victim.ex does not',
    async () => {
      assert.equal(
        (await httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, ...extra.victim })).status,
        200,
      );
      assert.match(await refused(extra.commaDns), /ALERT/);
    },
  );
  it('a chain deeper than max_verify_depth (via an intermediate) is refused', async () =>
    assert.match(await refused(ctx.pki.clientAViaIntermediate), /ALERT/));
  it('not yet valid, expired, a CA certificate, or a usage that forbids client auth: refused', async () => {
    for (const c of [extra.notYetValid, ctx.pki.expiredA, extra.caAsClient, extra.serverOnly])
      assert.match(await refused(c), /ALERT/);
  });
});

describe('max_verify_depth 2 accepts a certificate issued through an intermediate', () => {
  const ctx = withEdge(
    (up) =>
      `${SERVER}downstream_mtls:\n  ca_file: ca-a.pem\n  enforcement: ` +
      `reject_connection\n  max_verify_depth: 2\nroutes:\n${route(HOSTS.x, up.url)}`,
  );
  it('accepted', async () => {
    assert.equal(
      (
        await httpsGet({
          port: ctx.edge.httpsPort,
          servername: HOSTS.x,
          ca: ctx.pki.caA,
          ...ctx.pki.clientAViaIntermediate,
        })
      ).status,
      200,
    );
  });
});
