import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect as connectH2 } from 'node:http2';
import { join } from 'node:path';
import { constants } from 'node:crypto';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
} from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet, rawHttp1, type ClientRequest } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { onlyRequestFor, seenSince, uniquePath } from '../support/seen.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const DAY = 24 * 3600 * 1000;
const client = (c: { certPem: string; keyPem: string; chainPem?: string }): ClientCert => ({
  cert: c.chainPem ?? c.certPem,
  key: c.keyPem,
});

/** One edge per config; `up` records what reached the upstream. */
function withEdge(yamlOf: (up: TestUpstream, pki: TestPki) => string, setup?: (pki: TestPki) => Promise<void>) {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge };
  before(async () => {
    ctx.pki = await createTestPki();
    await setup?.(ctx.pki);
    ctx.up = await startUpstream('u');
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: yamlOf(ctx.up, ctx.pki) });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });
  return ctx;
}

const SERVER = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n';
const route = (host: string, to: string, extra = '    allow_any_authenticated_user: true') =>
  `  - from: https://${host}\n    to: ${to}\n${extra}\n`;

describe('downstream_mtls with its default enforcement (policy_with_default_deny): 495, not a TLS alert', () => {
  const ctx = withEdge(
    (up) =>
      `${SERVER}forward_client_cert: [subject, dns]\ndownstream_mtls:\n  ca_file: ca-a.pem\nroutes:\n` +
      route(
        HOSTS.x,
        up.url,
        '    set_request_headers:\n      X-Client-Fingerprint: "${pomerium.client_cert_fingerprint}"\n      X-Client-Email: "${pomerium.client_cert_san_email}"\n      X-Literal: "100% $$real"\n    allow_any_authenticated_user: true',
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
  it('identity headers a client forges are removed before the upstream; the certificate details set are real', async () => {
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
  });
});

describe('enforcement: policy — only routes that need a user ask for a certificate; path tricks cannot dodge it', () => {
  const ctx = withEdge(
    (up) =>
      `${SERVER}forward_client_cert: [subject, uri]\ndownstream_mtls:\n  ca_file: ca-a.pem\n  enforcement: policy\nroutes:\n` +
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
});

describe('reject_connection with a CRL, SAN matchers and max_verify_depth 1', () => {
  const extra = {} as Record<
    'revoked' | 'otherDomain' | 'serverOnly' | 'notYetValid' | 'caAsClient' | 'good' | 'victim' | 'commaDns',
    ClientCert
  >;
  const ctx = withEdge(
    (up) =>
      `${SERVER}downstream_mtls:\n  ca_file: ca-a.pem\n  crl_file: crl.pem\n  enforcement: reject_connection\n  max_verify_depth: 1\n  match_subject_alt_names:\n    - email: .*@example\\.com\n    - dns: victim\\.ex\nroutes:\n${route(HOSTS.x, up.url)}`,
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
  it('each SAN is matched whole: DNS SAN victim.ex passes `dns: victim\\.ex`, one SAN evil.ex,victim.ex does not', async () => {
    assert.equal(
      (await httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, ...extra.victim })).status,
      200,
    );
    assert.match(await refused(extra.commaDns), /ALERT/);
  });
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
      `${SERVER}downstream_mtls:\n  ca_file: ca-a.pem\n  enforcement: reject_connection\n  max_verify_depth: 2\nroutes:\n${route(HOSTS.x, up.url)}`,
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

describe('no way around the handshake: SNI tricks, session resumption, HTTP/2 coalescing', () => {
  const ctx = withEdge(
    (up) =>
      `certificates:\n  - cert: x.pem\n    key: x-key.pem\n  - cert: y.pem\n    key: y-key.pem\n  - cert: z.pem\n    key: z-key.pem\nroutes:\n` +
      route(HOSTS.x, up.url, '    tls_downstream_client_ca_file: ca-a.pem\n    allow_any_authenticated_user: true') +
      route(HOSTS.y, up.url, '    tls_downstream_client_ca_file: ca-b.pem\n    allow_any_authenticated_user: true') +
      route(HOSTS.z, up.url, '    allow_public_unauthenticated_access: true'),
    async (pki) => {
      // One certificate per host, so that HTTP/2 is offered and a client could try to coalesce.
      for (const h of ['x', 'y', 'z'] as const) {
        const c = await issueServerCertificate(pki.caAuthority, { dnsNames: [HOSTS[h]] });
        writeFileSync(join(pki.dir, `${h}.pem`), c.chainPem);
        writeFileSync(join(pki.dir, `${h}-key.pem`), c.keyPem);
      }
    },
  );
  const isForX = (r: { url: string; headers: { host?: string } }) =>
    r.headers.host === HOSTS.x || r.url.startsWith('/x');

  it('no SNI, an IP address, an unknown name, another letter case, a trailing dot: never the CA-protected route', async () => {
    for (const servername of [undefined, '127.0.0.1', 'unknown.mtls.test', HOSTS.x.toUpperCase(), `${HOSTS.x}.`]) {
      for (const host of [HOSTS.x, HOSTS.x.toUpperCase(), `${HOSTS.x}.`]) {
        const seen = seenSince(ctx.up);
        const res = await rawHttp1({ port: ctx.edge.httpsPort, servername, host, path: '/x' }).catch((e: Error) => ({
          status: -1,
          body: e.message,
        }));
        assert.ok(
          res.status === 421 || res.status === -1,
          `SNI ${String(servername)}, Host ${host}: ${res.status} ${res.body.slice(0, 60)}`,
        );
        assert.equal(seen.count(isForX), 0, `SNI ${String(servername)}, Host ${host} reached x`);
      }
    }
  });

  it('HTTP/1.1 keep-alive: a second request on a connection made for the public host, for the CA host, gets 421', async () => {
    const seen = seenSince(ctx.up);
    const responses = await new Promise<string>((resolve, reject) => {
      const s = connectTls(
        {
          host: '127.0.0.1',
          port: ctx.edge.httpsPort,
          servername: HOSTS.z,
          ca: ctx.pki.caA,
          ALPNProtocols: ['http/1.1'],
        },
        () => {
          s.write(`GET /z HTTP/1.1\r\nHost: ${HOSTS.z}\r\n\r\n`);
        },
      );
      let raw = '';
      let sentSecond = false;
      s.on('data', (d: Buffer) => {
        raw += d.toString();
        // Once the first response is complete, the same connection asks for the other host.
        if (!sentSecond && /\r\n\r\nupstream u \/z$/.test(raw)) {
          sentSecond = true;
          s.write(`GET /x HTTP/1.1\r\nHost: ${HOSTS.x}\r\nConnection: close\r\n\r\n`);
        }
      });
      s.on('end', () => resolve(raw));
      s.on('error', reject);
    });
    assert.deepEqual(
      [...responses.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]),
      ['200', '421'],
      responses,
    );
    assert.equal(seen.count(isForX), 0);
  });

  for (const kind of ['session ticket', 'session id'] as const) {
    it(`a TLS session (${kind}) made on the public host does not resume on the CA host: the certificate is still required`, async () => {
      const noTicket = kind === 'session id' ? constants.SSL_OP_NO_TICKET : 0;
      const session = await new Promise<Buffer>((resolve, reject) => {
        const s: TLSSocket = connectTls(
          {
            host: '127.0.0.1',
            port: ctx.edge.httpsPort,
            servername: HOSTS.z,
            ca: ctx.pki.caA,
            maxVersion: 'TLSv1.2',
            secureOptions: noTicket,
          },
          () => {
            s.write(`GET /z HTTP/1.1\r\nHost: ${HOSTS.z}\r\nConnection: close\r\n\r\n`);
          },
        );
        s.on('session', (sess: Buffer) => resolve(sess));
        s.on('error', reject);
        s.resume();
      });
      // The session resumes on the host it was made for, so it is a real one.
      const again = await new Promise<boolean>((resolve, reject) => {
        const s = connectTls(
          {
            host: '127.0.0.1',
            port: ctx.edge.httpsPort,
            servername: HOSTS.z,
            ca: ctx.pki.caA,
            session,
            maxVersion: 'TLSv1.2',
            secureOptions: noTicket,
          },
          () => {
            resolve(s.isSessionReused());
            s.end();
          },
        );
        s.on('error', reject);
      });
      assert.equal(again, true, 'the session resumes on the public host');
      for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
        const outcome = await new Promise<string>((resolve) => {
          const s = connectTls(
            {
              host: '127.0.0.1',
              port: ctx.edge.httpsPort,
              servername: HOSTS.x,
              ca: ctx.pki.caA,
              session,
              maxVersion,
              secureOptions: noTicket,
            },
            () => {
              const reused = s.isSessionReused();
              s.write(`GET /x HTTP/1.1\r\nHost: ${HOSTS.x}\r\nConnection: close\r\n\r\n`);
              s.once('data', (d: Buffer) => resolve(`answered reused=${reused}: ${d.toString().split('\r\n')[0]}`));
            },
          );
          s.on('error', (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
        });
        assert.match(
          outcome,
          /^refused: .*(HANDSHAKE_FAILURE|CERTIFICATE_REQUIRED|ALERT)/,
          `${maxVersion}: ${outcome}`,
        );
      }
    });
  }

  for (const [from, client] of [
    ['z', undefined],
    ['y', 'B'],
  ] as const)
    it(`HTTP/2: a connection made for ${from === 'z' ? 'the public host' : 'a host with another CA'} that asks for the CA host gets 421`, async () => {
      const seen = seenSince(ctx.up);
      const session = connectH2(`https://127.0.0.1:${ctx.edge.httpsPort}`, {
        servername: HOSTS[from],
        ca: ctx.pki.caA,
        ...(client ? ctx.pki.clientB : {}),
      });
      try {
        await new Promise<void>((resolve, reject) => {
          session.once('connect', () => resolve());
          session.once('error', reject);
        });
        assert.equal(session.alpnProtocol, 'h2');
        const status = await new Promise<number>((resolve, reject) => {
          const req = session.request({ ':path': '/x', ':authority': HOSTS.x });
          req.on('response', (h) => resolve(Number(h[':status'])));
          req.on('error', reject);
          req.end();
        });
        assert.equal(status, 421);
        assert.equal(seen.count(isForX), 0);
      } finally {
        session.close();
      }
    });
});

for (const enforcement of ['reject_connection', 'policy_with_default_deny'] as const) {
  describe(`routes that share a host but trust different CAs (${enforcement})`, () => {
    const ctx = withEdge(
      (up) =>
        `${SERVER}downstream_mtls:\n  enforcement: ${enforcement}\n  max_verify_depth: 0\nroutes:\n` +
        route(
          HOSTS.x,
          up.url,
          '    prefix: /a\n    tls_downstream_client_ca_file: ca-a.pem\n    allow_any_authenticated_user: true',
        ) +
        route(
          HOSTS.x,
          up.url,
          '    prefix: /b\n    tls_downstream_client_ca_file: ca-b.pem\n    allow_any_authenticated_user: true',
        ) +
        route(HOSTS.x, up.url, '    prefix: /public\n    allow_public_unauthenticated_access: true'),
    );
    const get = (path: string, c?: ClientCert, headers?: Record<string, string>) =>
      httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path, ...c, headers });

    it("each route admits only its own CA's certificates; the other CA's gets 495 and never the upstream", async () => {
      assert.equal((await get('/a/1', ctx.pki.clientA)).status, 200);
      assert.equal((await get('/b/1', ctx.pki.clientB)).status, 200);
      const before = ctx.up.seen.length;
      const wrong = await get('/b/2', ctx.pki.clientA, { accept: 'application/json' });
      assert.equal(wrong.status, 495);
      assert.match((JSON.parse(wrong.body) as { message: string }).message, /not for this page/);
      assert.equal((await get('/a/2', ctx.pki.clientB)).status, 495);
      assert.equal(ctx.up.seen.length, before);
    });
    it("routes are told apart by the certificate's direct issuer: one issued by CA A's intermediate needs the intermediate in the route's CA file", async () => {
      assert.equal((await get('/a/3', ctx.pki.clientAViaIntermediate)).status, 495);
    });
    it("an intermediate under CA A that calls itself CA B cannot issue certificates for B's routes", async () => {
      const impostor = await createIntermediateCa(ctx.pki.caAuthority, { commonName: 'Test CA B' });
      const leaf = await issueClientCertificate(impostor, { commonName: 'mallory' });
      const before = ctx.up.seen.length;
      assert.equal((await get('/b/3', { cert: leaf.chainPem, key: leaf.keyPem })).status, 495);
      assert.equal(ctx.up.seen.length, before);
    });
    it('a 421 needs no certificate', async () => {
      assert.equal(
        (await httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path: '/', host: HOSTS.y }))
          .status,
        421,
      );
    });
    it('without a certificate: the public route answers, the others 495; an expired one is refused', async () => {
      assert.equal((await get('/public/x')).status, 200);
      assert.equal((await get('/a/4')).status, 495);
      assert.equal((await get('/a/5', ctx.pki.expiredA)).status, 495);
    });
  });
}
