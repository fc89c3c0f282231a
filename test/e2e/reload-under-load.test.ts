import assert from 'node:assert/strict';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { Agent, request } from 'node:https';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRootCa, issueServerCertificate } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { rawHttp1 } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const EDITS = 50;

interface Tally {
  ok: number;
  failed: string[];
}

/**
 * 50 edits (routes added and removed, an upstream changed, the server certificate and the client CA
 * rotated) while HTTP/1.1 and HTTP/2 clients keep sending mTLS requests to routes that do not change.
 */
for (const xdsProtocol of ['sotw', 'delta'] as const)
  describe(`reload under load (${xdsProtocol} xDS)`, () => {
    let pki: TestPki;
    let stable: TestUpstream;
    let one: TestUpstream;
    let two: TestUpstream;
    let edge: RunningEdge;

    const config = (o: { zTo: string; added?: number }) => `
certificate_file: server.pem
certificate_key_file: server-key.pem
client_ca_file: client-ca.pem
routes:
  - from: https://${HOSTS.x}
    to: ${stable.url}
    allow_any_authenticated_user: true
  - from: https://${HOSTS.y}
    to: ${stable.url}
    allow_any_authenticated_user: true
  - from: https://${HOSTS.z}
    to: ${o.zTo}
    allow_any_authenticated_user: true
${o.added === undefined ? '' : `  - from: https://added-${o.added}.mtls.test\n    to: ${one.url}\n    allow_any_authenticated_user: true\n`}`;

    before(async () => {
      pki = await createTestPki();
      writeFileSync(join(pki.dir, 'client-ca.pem'), pki.caA);
      stable = await startUpstream('stable');
      one = await startUpstream('one');
      two = await startUpstream('two');
      edge = await startEdge({ dir: pki.dir, yaml: config({ zTo: one.url }), xdsProtocol });
    });
    after(async () => {
      await edge?.stop();
      await Promise.all([stable, one, two].map((u) => u?.close()));
    });

    /**
     * Keeps one keep-alive HTTP/1.1 connection busy until `stop` is set. A client CA edit is a trust change,
     * which drains the chain: Envoy may close the kept-alive connection just as the next request goes out, and
     * that request is sent again on a new one, as browsers do (and Node's documentation advises: `reusedSocket`).
     */
    async function http1Load(host: string, tally: Tally, stop: () => boolean): Promise<void> {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const once = (retry: boolean) =>
        new Promise<void>((resolve) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: edge.httpsPort,
              servername: host,
              headers: { host },
              ca: pki.caA,
              ...pki.clientA,
              agent,
              path: '/h1',
            },
            (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => {
                if (res.statusCode === 200 && body === 'upstream stable /h1') tally.ok++;
                else tally.failed.push(`h1 ${host}: ${res.statusCode} ${body.slice(0, 80)}`);
                resolve();
              });
            },
          );
          req.on('error', (e: NodeJS.ErrnoException) => {
            if (retry && req.reusedSocket && e.code === 'ECONNRESET') return void once(false).then(resolve);
            tally.failed.push(`h1 ${host}: ${e.message}`);
            resolve();
          });
          req.end();
        });
      while (!stop()) await once(true);
      agent.destroy();
    }

    /**
     * Keeps one HTTP/2 connection busy, alternating between two hosts of the same class on it. A client CA edit
     * is a trust change, which drains the chain: after Envoy's GOAWAY the client opens a new connection, as
     * browsers do (requests already sent on the old one still complete).
     */
    async function http2Load(tally: Tally, stop: () => boolean): Promise<void> {
      const connect = async () => {
        const s: ClientHttp2Session = connectH2(`https://127.0.0.1:${edge.httpsPort}`, {
          servername: HOSTS.x,
          ca: pki.caA,
          ...pki.clientA,
        });
        s.on('error', (e: Error) => tally.failed.push(`h2 session: ${e.message}`));
        s.on('goaway', () => (goaway = true));
        await new Promise<void>((resolve) => s.once('connect', () => resolve()));
        if (s.alpnProtocol !== 'h2') tally.failed.push(`negotiated ${String(s.alpnProtocol)}, not h2`);
        return s;
      };
      let goaway = false;
      let session = await connect();
      /**
       * One request; `undefined` when it got no response because the connection was going away (GOAWAY: not
       * processed, RFC 9113 §6.8).
       */
      const once = (host: string) =>
        new Promise<string | undefined>((resolve) => {
          const stream = session.request({ ':path': '/h2', ':authority': host });
          let body = '';
          let status = 0;
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (d: Buffer) => (body += d.toString()));
          // No answer because the drained connection went away first (GOAWAY, or closed at the end of the drain time).
          const goneFirst = () => status === 0 && (goaway || session.destroyed);
          stream.on('end', () =>
            resolve(
              goneFirst()
                ? undefined
                : status === 200 && body === 'upstream stable /h2'
                  ? ''
                  : `h2 ${host}: ${status} ${body.slice(0, 80)}`,
            ),
          );
          stream.on('error', (e: Error) => resolve(goneFirst() ? undefined : `h2 ${host}: ${e.message}`));
          stream.end();
        });
      let n = 0;
      while (!stop()) {
        if (goaway || session.closed) {
          session.close();
          goaway = false;
          session = await connect();
        }
        const host = n++ % 2 === 0 ? HOSTS.x : HOSTS.y;
        let outcome = await once(host);
        if (outcome === undefined) {
          // Never answered: send it again on a new connection, once.
          session.close();
          goaway = false;
          session = await connect();
          outcome = (await once(host)) ?? `h2 ${host}: refused twice`;
        }
        if (outcome === '') tally.ok++;
        else tally.failed.push(outcome);
      }
      session.close();
    }

    it(
      `${EDITS} edits, zero failed requests on unchanged routes, ` +
        `every changed route behaves as edited once acknowledged`,
      async () => {
        const otherCa = await createRootCa({ commonName: 'Second client CA' });
        const h1: Tally = { ok: 0, failed: [] };
        const h2: Tally = { ok: 0, failed: [] };
        let done = false;
        const load = Promise.all([
          http1Load(HOSTS.x, h1, () => done),
          http1Load(HOSTS.y, h1, () => done),
          http2Load(h2, () => done),
        ]);

        let zTo = one.url;
        let added: number | undefined;
        const checks: string[] = [];
        try {
          for (let i = 0; i < EDITS; i++) {
            const before = (await edge.status()).configVersion;
            const kind = i % 5;
            if (kind === 0) added = i;
            if (kind === 1) added = undefined;
            if (kind === 2) zTo = zTo === one.url ? two.url : one.url;
            if (kind === 3) {
              // Rotate the server certificate: a fresh one for the same names from CA A.
              const fresh = await issueServerCertificate(pki.caAuthority, { dnsNames: Object.values(HOSTS) });
              writeFileSync(join(pki.dir, 'server-key.pem.new'), fresh.keyPem);
              writeFileSync(join(pki.dir, 'server.pem.new'), fresh.chainPem);
              renameSync(join(pki.dir, 'server-key.pem.new'), join(pki.dir, 'server-key.pem'));
              renameSync(join(pki.dir, 'server.pem.new'), join(pki.dir, 'server.pem'));
            }
            if (kind === 4) {
              // Change the client CA: a bundle with a second CA, then back to CA A alone.
              writeFileSync(join(pki.dir, 'client-ca.pem'), i % 10 === 4 ? pki.caA + otherCa.certPem : pki.caA);
            }
            if (kind !== 3 && kind !== 4) edge.writeConfig(config({ zTo, added }));
            await edge.waitForStatus((s) => s.configVersion !== before && s.synced && s.reload.errors.length === 0);

            // The changed route behaves as edited.
            if (kind === 0) {
              const res = await rawHttp1({
                port: edge.httpsPort,
                servername: `added-${i}.mtls.test`,
                host: `added-${i}.mtls.test`,
                path: '/new',
                ...pki.clientA,
              });
              if (res.body !== 'upstream one /new')
                checks.push(`edit ${i}: added route answered ${res.status} ${res.body}`);
            }
            if (kind === 2) {
              const res = await rawHttp1({
                port: edge.httpsPort,
                servername: HOSTS.z,
                host: HOSTS.z,
                path: '/z',
                ...pki.clientA,
              });
              const expected = `upstream ${zTo === one.url ? 'one' : 'two'} /z`;
              if (res.body !== expected) checks.push(`edit ${i}: z answered ${res.body}, not ${expected}`);
            }
          }
        } finally {
          done = true;
          await load;
        }
        assert.deepEqual(checks, []);
        assert.deepEqual(h1.failed, [], 'HTTP/1.1 requests to unchanged routes');
        assert.deepEqual(h2.failed, [], 'HTTP/2 requests to unchanged routes');
        assert.ok(h1.ok > 100 && h2.ok > 100, `load ran throughout (h1 ${h1.ok}, h2 ${h2.ok})`);
        console.log(
          `reload under load (${xdsProtocol}): ${EDITS} edits, ` +
            `${h1.ok} HTTP/1.1 and ${h2.ok} HTTP/2 requests, none failed`,
        );
      },
    );
  });
