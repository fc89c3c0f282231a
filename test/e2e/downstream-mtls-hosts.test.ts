// downstream_mtls through Envoy: no way around the handshake by host name, and hosts whose routes trust different CAs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect as connectH2 } from 'node:http2';
import { join } from 'node:path';
import { constants } from 'node:crypto';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import {
  createIntermediateCa,
  issueClientCertificate,
  issueServerCertificate,
} from '../../control-plane/src/pki/index.js';
import { httpsGet, rawHttp1 } from '../support/https-client.js';
import { HOSTS, type ClientCert } from '../support/pki-fixture.js';
import { seenSince } from '../support/seen.js';
import { withEdge, SERVER, route } from './downstream-mtls-fixture.js';

describe('no way around the handshake: SNI tricks, session resumption, HTTP/2 coalescing', () => {
  const ctx = withEdge(
    (up) =>
      `certificates:\n  - cert: x.pem\n    key: x-key.pem\n  - cert: y.pem\n ` +
      `   key: y-key.pem\n  - cert: z.pem\n    key: z-key.pem\nroutes:\n` +
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

  it(
    'no SNI, an IP address, an unknown name, another letter ' + 'case, a trailing dot: never the CA-protected route',
    async () => {
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
    },
  );

  it(
    'HTTP/1.1 keep-alive: a second request on a connection ' + 'made for the public host, for the CA host, gets 421',
    async () => {
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
    },
  );

  for (const kind of ['session ticket', 'session id'] as const) {
    it(
      `a TLS session (${kind}) made on the public host does not ` +
        `resume on the CA host: the certificate is still required`,
      async () => {
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
      },
    );
  }

  for (const [from, client] of [
    ['z', undefined],
    ['y', 'B'],
  ] as const)
    it(
      `HTTP/2: a connection made for ${from === 'z' ? 'the public host' : 'a host with another CA'} ` +
        `that asks for the CA host gets 421`,
      async () => {
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
      },
    );
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
    it(
      "routes are told apart by the certificate's direct issuer: one issued " +
        "by CA A's intermediate needs the intermediate in the route's CA file",
      async () => {
        assert.equal((await get('/a/3', ctx.pki.clientAViaIntermediate)).status, 495);
      },
    );
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
