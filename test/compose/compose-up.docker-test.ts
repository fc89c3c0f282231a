// `docker compose up` as a user runs it, on a real Docker engine this test starts (dockerd, its default bridge and
// iptables), with certificates made by root. Not part of `npm test`: starting an engine needs root, so CI runs it as
// a step of its own (`npm run test:compose`, .ci/run). It fails, never skips, when the engine cannot start.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { chownSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { command } from '../support/commands.js';
import { startDockerEngine, type DockerEngine } from '../support/docker-engine.js';
import { buildStandInBaseImage } from '../support/docker-base-image.js';
import { freePort } from '../support/ports.js';
import { requireTool } from '../support/tools.js';
import { ComposeProject } from './compose-project.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'mtls-edge.mjs');
const HOST = 'verify.localhost.pomerium.io';
const USER = 'yourUsername@localhost.pomerium.io';
/** What a user's clone has that the test's copy does not need (or must not share: the user's own certs). */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'certs', '.tmp', 'test-artifacts']);
/** Files the control plane and Envoy read (examples/compose/config.yaml, envoy/bootstrap.compose.yaml). */
const CERT_PATHS = [
  '_wildcard.localhost.pomerium.io-key.pem',
  'control-plane-key.pem',
  'signing-key.pem',
  'envoy-edge-1-key.pem',
  'ca.pem',
  'control-plane-ca.pem',
].map((f) => `/certs/${f}`);
/** Another user's uid on the host: some of the certificates belong to it, the rest to root. */
const OTHER_UID = 4242;

const timings: Record<string, number> = {};
async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = Math.round((Date.now() - start) / 100) / 10;
  }
}

describe('docker compose up on a real Docker engine', { timeout: 20 * 60_000 }, () => {
  const curl = requireTool('curl', 'Install it: apt-get install curl.');
  const work = mkdtempSync(join(tmpdir(), 'mtls-edge-compose-'));
  const project = join(work, 'project');
  const certs = join(project, 'certs');
  let engine: DockerEngine | undefined;
  let compose: ComposeProject;
  let httpsPort = 0;
  let metricsPort = 0;
  /** Whether the stack came up: the tests after the first fail at once, not one timeout after another. */
  let up = false;
  const requireUp = (): void => assert.ok(up, 'the stack did not come up (see the first test)');
  const started = Date.now();

  before(async () => {
    engine = await timed('engine start', startDockerEngine);
    const baseImage = await timed('stand-in base image', () => buildStandInBaseImage(engine!, work));
    cpSync(ROOT, project, { recursive: true, filter: (src) => !NOT_COPIED.has(relative(ROOT, src)) });
    // As the issue reported it: `mtls-edge certs` run as root writes 0600 keys that root owns.
    for (const step of [
      ['ca'],
      ['server', '*.localhost.pomerium.io'],
      ['client', USER],
      ['control-plane', 'control-plane'],
      ['envoy', 'edge-1'],
      ['signing-key'],
    ])
      await command(process.execPath, [CLI, 'certs', ...step], { cwd: project });
    for (const f of ['envoy-edge-1.pem', 'envoy-edge-1-key.pem']) chownSync(join(certs, f), OTHER_UID, OTHER_UID);
    httpsPort = await freePort();
    metricsPort = await freePort();
    compose = new ComposeProject(engine, project, {
      MTLS_EDGE_BASE_IMAGE: baseImage,
      MTLS_EDGE_HTTPS_PORT: String(httpsPort),
      MTLS_EDGE_ADMIN_PORT: String(await freePort()),
      MTLS_EDGE_METRICS_PORT: String(metricsPort),
    });
  });

  after(async () => {
    await compose?.down().catch(() => undefined);
    await engine?.stop();
    rmSync(work, { recursive: true, force: true });
    console.log(JSON.stringify({ composeTestSeconds: { ...timings, total: (Date.now() - started) / 1000 } }));
  });

  /** curl to the edge on the published port, as a user would. */
  async function edge(o: { cert: boolean; path?: string }): Promise<{ status: number; body: string }> {
    const args = ['-sS', '--max-time', '10', '--resolve', `${HOST}:${httpsPort}:127.0.0.1`];
    args.push('--cacert', join(certs, 'ca.pem'), '-H', 'accept: application/json', '-w', '\n%{http_code}');
    if (o.cert) args.push('--cert', join(certs, `${USER}-client.pem`), '--key', join(certs, `${USER}-client-key.pem`));
    const { stdout } = await command(curl, [...args, `https://${HOST}:${httpsPort}${o.path ?? '/'}`]);
    const at = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
  }

  async function until(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await ok().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('builds the image, starts the stack, and the control plane and Envoy turn healthy', async () => {
    const key = statSync(join(certs, '_wildcard.localhost.pomerium.io-key.pem'));
    assert.equal(key.uid, 0, 'the server key belongs to root');
    assert.equal(key.mode & 0o777, 0o600, 'and only root may read it');
    await timed('compose build', () => compose.run(['build'], 15 * 60_000));
    await timed('compose up', () => compose.run(['up', '-d']));
    await timed('healthy', async () => {
      await compose.waitHealthy('control-plane');
      await compose.waitHealthy('envoy');
    });
    up = true;
  });

  it('Envoy runs as its own non-root user, the control plane and the upstream as node', async () => {
    requireUp();
    assert.equal(await compose.processUid('envoy'), 101);
    assert.equal(await compose.processUid('control-plane'), 1000);
    assert.equal(await compose.processUid('upstream'), 1000);
  });

  it("the control plane runs on the base image's Node, 24 (an LTS), not on this machine's", async () => {
    requireUp();
    assert.match(await compose.exec('control-plane', ['node', '--version']), /^v24\./);
  });

  it('the keys are in volumes, root:mtls-edge 0440, without CA or client keys; Envoy has only its own', async () => {
    requireUp();
    // `stat` in the container: name, mode, owner uid, group name.
    const listing = await compose.exec('control-plane', ['stat', '-c', '%n %a %u %G', ...CERT_PATHS]);
    for (const line of listing.split('\n')) assert.match(line, / 440 0 mtls-edge$/, line);
    const names = (await compose.exec('envoy', ['ls', '/certs'])).split('\n');
    assert.deepEqual(
      names.filter((n) => /ca-key|client-key/.test(n)),
      [],
      'CA and client keys stay on the host',
    );
    assert.ok(names.includes('envoy-edge-1-key.pem'), "the key uid 4242 made is in the volume: Envoy's own");
    // Envoy faces the internet: it holds its own key and the control plane's CA, nothing that signs or serves xDS.
    assert.deepEqual(names.filter(Boolean).sort(), [
      'control-plane-ca.pem',
      'envoy-edge-1-key.pem',
      'envoy-edge-1.pem',
    ]);
  });

  it('with a client certificate the edge serves (over the secured control channel); without, it refuses', async () => {
    requireUp();
    await until('the edge answers 200', async () => (await edge({ cert: true })).status === 200);
    const res = await edge({ cert: true });
    const body = JSON.parse(res.body) as { identity: { email: string }; headers: Record<string, string> };
    assert.equal(body.identity.email, USER);
    // Signed by ext_authz over the mutual-TLS channel with the key from ./certs: the mounted key was readable.
    const jwt = body.headers['x-pomerium-jwt-assertion'] ?? '';
    const signingKey = createPublicKey(readFileSync(join(certs, 'signing-key.pem')));
    const { payload } = await jwtVerify(jwt, signingKey);
    assert.equal(payload['email'], USER);
    assert.equal((await edge({ cert: false })).status, 495, 'no client certificate: 495');
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^envoy_server_live(\{[^}]*\})? 1$/m, "Envoy's metrics, published on loopback");
  });

  it('a control plane that dies comes back by its restart policy, and the edge serves again', async () => {
    requireUp();
    const pid = await compose.pid('control-plane');
    process.kill(pid, 'SIGKILL');
    await until('docker restarts the control plane', async () => (await compose.restartCount('control-plane')) >= 1);
    await timed('restart to healthy', () => compose.waitHealthy('control-plane'));
    await until('the edge answers 200 again', async () => (await edge({ cert: true })).status === 200);
  });

  it('an edit of the mounted config on the host reloads the edge', async () => {
    requireUp();
    const file = join(project, 'examples', 'compose', 'config.yaml');
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes('is: localhost.pomerium.io'));
    writeFileSync(file, text.replace('is: localhost.pomerium.io', 'is: example.com'));
    await timed('reload', () =>
      until('the edited policy (example.com only) refuses the client', async () => {
        return (await edge({ cert: true })).status === 403;
      }),
    );
  });

  it("`mtls-edge drain` in the envoy container fails Envoy's health check, as before a planned stop", async () => {
    requireUp();
    await compose.exec('envoy', ['mtls-edge', 'drain', '--seconds', '0', '--drain-time-s', '1']);
    // The compose file's own healthcheck command, run now: it exits non-zero, so Docker would mark Envoy unhealthy.
    const check = await compose.healthcheckCommand('envoy');
    await assert.rejects(compose.exec('envoy', check), /: exit code 1\n/);
  });

  it('docker compose stop envoy drains it first (mtls-edge envoy) and it exits 0', async () => {
    requireUp();
    await timed('compose stop envoy', () => compose.run(['stop', '--timeout', '30', 'envoy']));
    const logs = await compose.run(['logs', '--no-color', 'envoy']);
    assert.match(logs, /mtls-edge drain: health check failing; waiting 5 s for balancers/);
    assert.match(logs, /mtls-edge drain: drained: Envoy can be stopped/);
    assert.equal(await compose.exitCode('envoy'), 0, 'stopped by its own SIGTERM after the drain, not killed');
  });

  it('docker compose down removes the containers, the network and the certificate volume', async () => {
    await timed('compose down', () => compose.down());
    assert.deepEqual(await compose.leftovers(), []);
  });

  it('stopping the engine leaves no bridge, veth or iptables rule of its own behind', async () => {
    const stopping = engine!;
    engine = undefined;
    await timed('engine stop', () => stopping.stop());
    const links = (await command('ip', ['-o', 'link', 'show'])).stdout;
    assert.doesNotMatch(links, /docker0|br-[0-9a-f]{12}|veth/);
    for (const table of ['filter', 'nat'])
      assert.doesNotMatch((await command('iptables', ['-t', table, '-S'])).stdout, /DOCKER|docker0/);
  });
});
