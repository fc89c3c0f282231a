import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, requireEnvoy, runCli } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * Production layout (control plane and Envoy started apart): what policies do when the control plane is
 * gone. Envoy-decided policies keep deciding; routes that need the ext_authz service fail closed (503).
 */
describe('policies without the control plane: Envoy-decided ones keep working, ext_authz ones fail closed', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let controlPlane: ChildProcess | undefined;
  let envoy: ChildProcess | undefined;
  let httpsPort: number;
  let adminUrl: string;

  const stop = async (child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  const get = (path: string) => httpsGet({ port: httpsPort, servername: HOSTS.x, ca: pki.caA, path, ...pki.clientA });

  before(async () => {
    requireEnvoy();
    pki = await createTestPki();
    const channel = await createControlChannelPki(pki.dir);
    const envoyCert = await channel.node('edge');
    upstream = await startUpstream('p');
    [httpsPort] = [await freePort()];
    adminUrl = `http://127.0.0.1:${await freePort()}`;
    const configPath = join(pki.dir, 'config.yaml');
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
    const tls = ['--xds-client-cert', envoyCert.certFile, '--xds-client-key', envoyCert.keyFile, '--xds-ca', channel.caFile];
    const res = await runCli(['bootstrap', '--config', configPath, '--node-id', 'edge', '--envoy-admin-address', `127.0.0.1:${await freePort()}`, ...tls]);
    assert.equal(res.code, 0, res.stderr);
    const bootstrap = join(pki.dir, 'bootstrap.yaml');
    writeFileSync(bootstrap, res.stdout);
    controlPlane = spawn(process.execPath, [CLI, 'run', '--config', configPath, '--no-envoy'], { stdio: 'ignore' });
    envoy = spawn(requireEnvoy(), ['-c', bootstrap, '--disable-hot-restart', '--concurrency', '1', '--log-level', 'warning'], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${adminUrl}/readyz`)).status === 200) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('edge not ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await stop(controlPlane);
    await stop(envoy);
    await upstream?.close();
  });

  it('with the control plane: both routes allow alice', async () => {
    assert.equal((await get('/envoy/a')).status, 200);
    assert.equal((await get('/ext/a')).status, 200);
  });

  it('without it: the Envoy-decided route still allows alice; the ext_authz route answers 503, never lets her through', async () => {
    await stop(controlPlane, 'SIGKILL');
    assert.equal((await get('/envoy/b')).status, 200);
    const seen = upstream.seen.length;
    const res = await get('/ext/b');
    assert.equal(res.status, 503);
    assert.equal(upstream.seen.length, seen);
  });
});
