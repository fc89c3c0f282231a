import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
} from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { acrossTheChange as acrossChange, openConnection } from '../support/open-connections.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** A route Envoy refuses (its RE2 program is over Envoy's limit), as hot-reload.test.ts makes one. */
const REFUSED_ROUTE = (host: string, to: string) =>
  `  - from: https://${host}\n    to: ${to}\n    regex: ^/[a-z]{1,1000}\n    allow_any_authenticated_user: true\n`;

/**
 * A change that narrows trust reaches connections that are already open: the next request on a connection whose
 * certificate no longer passes gets 495 (or finds the connection closed) and never reaches the upstream, over
 * HTTP/1.1 keep-alive and HTTP/2 alike; a client whose certificate still passes is served on its connection.
 * Envoy's drain time is long here, so that the old connections really are still open when they are asked again.
 */
for (const xdsProtocol of ['sotw', 'delta'] as const)
  describe(`trust is current on open connections (${xdsProtocol} xDS)`, () => {
    let pki: TestPki;
    let caB: CertificateAuthority;
    /** CA B's intermediates: a client B2 issues has three certificates above it (B2, B1, B), one of B1 two. */
    let intermediateB1: CertificateAuthority;
    let intermediateB2: CertificateAuthority;
    const crl = () => createCrl(pki.caAuthority, settings.revoked);
    let up: TestUpstream;
    let edge: RunningEdge;
    const settings = {
      depth: 3,
      sanRegex: '.*@example\\.com',
      zCa: 'z-ca.pem',
      revoked: [] as string[],
      crlFile: 'crl.pem',
      refusedRoute: false,
    };

    // Three hosts of three chains: x trusts the global CA, y its own CA file, z a CA file whose path changes.
    const config = () => `
certificates:
  - { cert: x.pem, key: x-key.pem }
  - { cert: y.pem, key: y-key.pem }
  - { cert: z.pem, key: z-key.pem }
downstream_mtls:
  ca_file: ca-a.pem
  crl_file: ${settings.crlFile}
  max_verify_depth: ${settings.depth}
  match_subject_alt_names:
    - email: '${settings.sanRegex}'
routes:
  - from: https://${HOSTS.x}
    to: ${up.url}
    allow_any_authenticated_user: true
  - from: https://${HOSTS.y}
    to: ${up.url}
    tls_downstream_client_ca_file: y-ca.pem
    allow_any_authenticated_user: true
  - from: https://${HOSTS.z}
    to: ${up.url}
    tls_downstream_client_ca_file: ${settings.zCa}
    allow_any_authenticated_user: true
${settings.refusedRoute ? REFUSED_ROUTE(HOSTS.x, up.url) : ''}`;

    before(async () => {
      pki = await createTestPki();
      caB = await createRootCa({ commonName: 'Test CA B2' });
      intermediateB1 = await createIntermediateCa(caB, { commonName: 'Test Intermediate B1' });
      intermediateB2 = await createIntermediateCa(intermediateB1, { commonName: 'Test Intermediate B2' });
      for (const host of ['x', 'y', 'z'] as const) {
        // One server certificate per host, so that no two chains share one and every chain offers HTTP/2.
        const server = await issueServerCertificate(pki.caAuthority, { dnsNames: [HOSTS[host]] });
        writeFileSync(join(pki.dir, `${host}.pem`), server.chainPem);
        writeFileSync(join(pki.dir, `${host}-key.pem`), server.keyPem);
      }
      writeFileSync(join(pki.dir, 'y-ca.pem'), pki.caA);
      writeFileSync(join(pki.dir, 'z-ca.pem'), pki.caA);
      writeFileSync(join(pki.dir, 'z-ca-b.pem'), caB.certPem);
      writeFileSync(join(pki.dir, 'crl.pem'), await crl());
      up = await startUpstream('u');
      edge = await startEdge({ dir: pki.dir, yaml: config(), drainTimeSeconds: 60, xdsProtocol });
    });
    after(async () => {
      await edge?.stop();
      await up?.close();
    });

    const newClient = async (name: string, issuer: CertificateAuthority = pki.caAuthority) => {
      const c = await issueClientCertificate(issuer, { commonName: name, email: `${name}@example.com` });
      return { cert: c.chainPem ?? c.certPem, key: c.keyPem, serialHex: c.serialHex };
    };
    /** Writes the file as editors do (temporary file, then rename), so the watcher sees one complete change. */
    const replaceFile = (name: string, content: string) => {
      writeFileSync(join(pki.dir, `${name}.tmp`), content);
      renameSync(join(pki.dir, `${name}.tmp`), join(pki.dir, name));
    };
    const applied = async (change: () => void | Promise<void>) => {
      const { configVersion } = await edge.status();
      await change();
      await edge.waitForStatus((s) => s.configVersion !== configVersion && s.synced && s.reload.errors.length === 0);
    };

    /** One host's clients across a change (test/support/open-connections.ts). */
    const acrossTheChange = (
      t: TestContext,
      o: { host: string; refused: ClientCert; kept?: ClientCert; change: () => void | Promise<void> },
    ) =>
      acrossChange({
        connect: (protocol, client) =>
          openConnection[protocol]({ port: edge.httpsPort, servername: o.host, ca: pki.caA, ...client }),
        change: () => applied(o.change),
        upstreamPaths: () => up.seen.map((s) => s.url),
        refused: o.refused,
        ...(o.kept ? { kept: o.kept } : {}),
        log: (line) => t.diagnostic(line),
      });

    it("the CA file is rotated to another CA: open connections with the old CA's certificate get 495", async (t) => {
      await acrossTheChange(t, {
        host: HOSTS.y,
        refused: await newClient('yara'),
        change: () => replaceFile('y-ca.pem', caB.certPem),
      });
    });

    it("the route's CA path changes to another CA's file: open connections get 495 or are closed", async (t) => {
      await acrossTheChange(t, {
        host: HOSTS.z,
        refused: await newClient('zoe'),
        change: () => {
          settings.zCa = 'z-ca-b.pem';
          edge.writeConfig(config());
        },
      });
    });

    it(
      'a client certificate is revoked by the CRL: its connections ' +
        'get 495, another client on the same host is still served',
      async (t) => {
        const revoked = await newClient('rex');
        settings.revoked.push(revoked.serialHex);
        await acrossTheChange(t, {
          host: HOSTS.x,
          refused: revoked,
          kept: await newClient('kim'),
          change: async () => replaceFile('crl.pem', await crl()),
        });
      },
    );

    it(
      "max_verify_depth is lowered below the client's chain: 495 " +
        'for the client two intermediates down, not for one under one',
      async (t) => {
        // z must trust CA B: the path-change test above leaves it so; run alone, this test makes the change itself.
        if (settings.zCa !== 'z-ca-b.pem') {
          settings.zCa = 'z-ca-b.pem';
          await applied(() => edge.writeConfig(config()));
        }
        await acrossTheChange(t, {
          // z trusts CA B since the path change above; CA B has no CRL, so intermediates' leaves need none either.
          host: HOSTS.z,
          refused: await newClient('ivan', intermediateB2),
          kept: await newClient('dina', intermediateB1),
          change: () => {
            settings.depth = 2;
            edge.writeConfig(config());
          },
        });
      },
    );

    it('the SAN matcher is tightened: 495 for the client it no longer matches, not for the one it does', async (t) => {
      await acrossTheChange(t, {
        host: HOSTS.x,
        refused: await newClient('sam'),
        kept: await newClient('alice-kept'),
        change: () => {
          settings.sanRegex = 'alice.*@example\\.com';
          edge.writeConfig(config());
        },
      });
    });

    it('two narrowings in a row: a connection made before both meets the latest trust', async (t) => {
      // (Names the SAN matcher, tightened above, still accepts.)
      const [first, second, kept] = [
        await newClient('alice-rita'),
        await newClient('alice-ron'),
        await newClient('alice-kira'),
      ];
      await acrossTheChange(t, {
        host: HOSTS.x,
        refused: second,
        kept,
        change: async () => {
          // The connections read generation 1's name; generation 2 (rita revoked), then 3 (ron too), follow.
          for (const c of [first, second]) {
            settings.revoked.push(c.serialHex);
            await applied(async () => replaceFile('crl.pem', await crl()));
          }
        },
      });
    });

    it(
      'a narrowing in the same edit as a route Envoy refuses: ' +
        'old connections fail closed (495), never the upstream',
      async (t) => {
        const revoked = await newClient('alice-nack');
        await acrossTheChange(t, {
          host: HOSTS.x,
          refused: revoked,
          change: async () => {
            // One edit: the CRL (a new file, so that one write of the config carries both) and a route Envoy refuses.
            settings.revoked.push(revoked.serialHex);
            writeFileSync(join(pki.dir, 'crl-2.pem'), await crl());
            settings.crlFile = 'crl-2.pem';
            settings.refusedRoute = true;
            edge.writeConfig(config());
            await edge.waitForStatus((s) => s.rejected !== null && s.synced, 15_000);
          },
        });
        assert.match((await edge.status()).rejected?.message ?? '', /RE2|regex|program size/i);
        // The next good edit serves the stale template again (and the CRL file of the tests after this one).
        replaceFile('crl.pem', await crl());
        settings.crlFile = 'crl.pem';
        settings.refusedRoute = false;
        await applied(() => edge.writeConfig(config()));
      },
    );

    it('a TLS session made before a narrowing never resumes after it (TLS 1.2 and 1.3)', async () => {
      const revoked = await newClient('alice-sid');
      const sessions: Array<{ version: 'TLSv1.2' | 'TLSv1.3'; session: Buffer | undefined }> = [];
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const { socket, session, status } = await handshake(version, revoked);
        assert.equal(status, 200, `${version}: served before the change`);
        socket.destroy();
        sessions.push({ version, session });
      }
      settings.revoked.push(revoked.serialHex);
      await applied(async () => replaceFile('crl.pem', await crl()));
      for (const { version, session } of sessions) {
        const { socket, reused, status } = await handshake(version, revoked, session);
        socket.destroy();
        assert.equal(reused, false, `${version}: the session made before the change resumed`);
        // A full handshake under the policy enforcement completes, and the revoked certificate gets 495.
        assert.equal(status, 495, `${version}`);
      }
    });

    /** A handshake to x, optionally offering `session`; then one request, to see what the connection is worth. */
    async function handshake(version: 'TLSv1.2' | 'TLSv1.3', client: ClientCert, offered?: Buffer) {
      const socket = connectTls({
        host: '127.0.0.1',
        port: edge.httpsPort,
        servername: HOSTS.x,
        ca: pki.caA,
        ...client,
        minVersion: version,
        maxVersion: version,
        ALPNProtocols: ['http/1.1'],
        ...(offered ? { session: offered } : {}),
      });
      let session: Buffer | undefined;
      socket.on('session', (s: Buffer) => (session = s));
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      const reused = socket.isSessionReused();
      socket.write(`GET /session HTTP/1.1\r\nHost: ${HOSTS.x}\r\nConnection: close\r\n\r\n`);
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (raw += d));
      await new Promise((resolve) => socket.once('end', resolve));
      // TLS 1.2 sessions come with the handshake, TLS 1.3 tickets after it; without either, nothing can resume.
      session ??= socket.getSession();
      return { socket, session, reused, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0) };
    }
  });
