import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { startReplica } from '../support/replica-key.js';
import { requireEnvoy, runCli } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { countFor, uniquePath } from '../support/seen.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * Production layout (control plane and Envoy started apart): what policies do when the control plane is
 * gone. Envoy-decided policies keep deciding; routes that need the ext_authz service fail closed (503).
 * Each test brings the control plane into the state it needs, so that it passes alone and in any order.
 */
describe('without the control plane: Envoy-decided policies and kept allows go on, the rest fails closed', () => {
  let pki: TestPki;
  /** From the CA the edge trusts, but neither alice@example.com nor user alice: both policies deny it. */
  let mallory: ClientCert;
  let aliceTwin: ClientCert;
  let upstream: TestUpstream;
  let controlPlane: ChildProcess | undefined;
  let envoy: ChildProcess | undefined;
  let configPath: string;
  let httpsPort: number;
  let adminUrl: string;

  const stop = async (child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  const running = (child: ChildProcess | undefined) =>
    child !== undefined && child.exitCode === null && child.signalCode === null;
  /** Starts the control plane unless it runs, and waits until Envoy has its config again (/synced). */
  const controlPlaneUp = async () => {
    if (!running(controlPlane)) controlPlane = startReplica(configPath);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${adminUrl}/synced`)).status === 200) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('edge not ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** A request on a path of its own, with how many requests for that path reached the upstream. */
  const get = async (prefix: '/envoy' | '/ext', client: ClientCert) => {
    const path = uniquePath(prefix);
    const res = await httpsGet({ port: httpsPort, servername: HOSTS.x, ca: pki.caA, path, ...client });
    return { status: res.status, reached: countFor(upstream, path) };
  };
  const allowed = { status: 200, reached: 1 };
  const denied = { status: 403, reached: 0 };

  before(async () => {
    requireEnvoy();
    pki = await createTestPki();
    const m = await issueClientCertificate(pki.caAuthority, { commonName: 'mallory', email: 'mallory@example.com' });
    mallory = { cert: m.certPem, key: m.keyPem };
    const twin = await issueClientCertificate(pki.caAuthority, { commonName: 'alice', email: 'alice@example.com' });
    aliceTwin = { cert: twin.certPem, key: twin.keyPem };
    const channel = await createControlChannelPki(pki.dir);
    const envoyCert = await channel.node('edge');
    upstream = await startUpstream('p');
    [httpsPort] = [await freePort()];
    adminUrl = `http://127.0.0.1:${await freePort()}`;
    configPath = join(pki.dir, 'config.yaml');
    writeFileSync(
      configPath,
      `address: 127.0.0.1:${httpsPort}
admin_address: ${new URL(adminUrl).host}
xds_address: 127.0.0.1:${await freePort()}
${channel.yaml}certificate_file: server.pem
certificate_key_file: server-key.pem
client_ca_file: ca-a.pem
routes:
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    prefix: /envoy
    policy: { allow: { or: [ { email: alice@example.com } ] } }
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    prefix: /ext
    policy: { allow: { or: [ { user: alice } ] } }
`,
    );
    const tls = [
      '--xds-client-cert',
      envoyCert.certFile,
      '--xds-client-key',
      envoyCert.keyFile,
      '--xds-ca',
      channel.caFile,
    ];
    const res = await runCli([
      'bootstrap',
      '--config',
      configPath,
      '--node-id',
      'edge',
      '--envoy-admin-address',
      `127.0.0.1:${await freePort()}`,
      ...tls,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const bootstrap = join(pki.dir, 'bootstrap.yaml');
    writeFileSync(bootstrap, res.stdout);
    envoy = spawn(
      requireEnvoy(),
      ['-c', bootstrap, '--disable-hot-restart', '--concurrency', '1', '--log-level', 'warning'],
      { stdio: 'ignore' },
    );
    await controlPlaneUp();
  });
  after(async () => {
    await stop(controlPlane);
    await stop(envoy);
    await upstream?.close();
  });

  it(
    'with the control plane: both routes allow alice and ' + 'deny another client with 403, before the upstream',
    async () => {
      await controlPlaneUp();
      assert.deepEqual(await get('/envoy', pki.clientA), allowed);
      assert.deepEqual(await get('/ext', pki.clientA), allowed);
      assert.deepEqual(await get('/envoy', mallory), denied);
      assert.deepEqual(await get('/ext', mallory), denied);
    },
  );

  it(
    'without it: the Envoy-decided route still allows alice and denies the other client (403); the ext_authz ' +
      "route answers alice from Envoy's cache of the service's allows, and 503 to whoever it has no allow for",
    async () => {
      await controlPlaneUp();
      // Alice's allow on /ext, kept by Envoy (translate/http-filters/identity-cache.ts).
      assert.deepEqual(await get('/ext', pki.clientA), allowed);
      await stop(controlPlane, 'SIGKILL');
      assert.deepEqual(await get('/envoy', pki.clientA), allowed);
      assert.deepEqual(await get('/envoy', mallory), denied);
      assert.deepEqual(await get('/ext', pki.clientA), allowed);
      // Fails closed for everyone else: a deny is never kept, and a certificate with alice's name but another key
      // is another certificate.
      assert.deepEqual(await get('/ext', mallory), { status: 503, reached: 0 });
      assert.deepEqual(await get('/ext', aliceTwin), { status: 503, reached: 0 });
    },
  );

  it(
    'back again after a SIGKILL: the denied client gets ' + '403 on both routes again, alice passes both again',
    async () => {
      await stop(controlPlane, 'SIGKILL'); // a no-op when an earlier test left it down
      assert.equal((await get('/ext', mallory)).status, 503, 'the control plane is down');
      await controlPlaneUp();
      assert.deepEqual(await get('/envoy', mallory), denied);
      assert.deepEqual(await get('/ext', mallory), denied);
      assert.deepEqual(await get('/envoy', pki.clientA), allowed);
      assert.deepEqual(await get('/ext', pki.clientA), allowed);
    },
  );
});
