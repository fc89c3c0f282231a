import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { freePort } from '../support/ports.js';
import { requireTool } from '../support/tools.js';
import {
  documentedBlock,
  KUBERNETES_DIR,
  overlayNames,
  render,
  requireKubectl,
  ROOT,
  type Deployment,
} from '../support/kubernetes.js';

// `npm run test:apiserver`, not part of `npm test` or CI: building kube-apiserver on a fresh machine takes 5 to 10
// minutes of CI's 30. A real Kubernetes API server (kube-apiserver on etcd, no nodes, nothing scheduled) takes the
// documented Secrets for real and every overlay with `kubectl apply --dry-run=server`: its validation goes past the
// schema (selectors that match their template, port names, immutable fields, admission).
const run = promisify(execFile);
const INSTALL = 'bash scripts/install-kubernetes-tools.sh --with-apiserver builds it from the Go module proxy.';

interface Cluster {
  dir: string;
  env: NodeJS.ProcessEnv;
  processes: ChildProcess[];
}

async function waitFor(what: string, check: () => Promise<boolean>, processes: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    for (const p of processes) assert.equal(p.exitCode, null, `${what}: ${p.spawnfile} exited`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} within 90 s`);
}

async function startCluster(): Promise<Cluster> {
  const etcd = requireTool('etcd', 'Install it: apt-get install etcd-server (.ci/run does).');
  const apiserver = requireTool('kube-apiserver', INSTALL);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-apiserver-'));
  const [client, peer, secure] = [await freePort(), await freePort(), await freePort()];
  const processes: ChildProcess[] = [];
  const start = (binary: string, args: string[]) => {
    const p = spawn(binary, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    processes.push(p);
  };
  const peerUrl = `http://127.0.0.1:${peer}`;
  const clientUrl = `http://127.0.0.1:${client}`;
  start(etcd, [
    ...['--data-dir', join(dir, 'etcd'), '--name', 'test', '--initial-cluster', `test=${peerUrl}`],
    ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
    ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
  ]);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'tokens.csv'), 'test-token,admin,admin,system:masters\n');
  start(apiserver, [
    ...['--etcd-servers', clientUrl, '--bind-address', '127.0.0.1', '--secure-port', String(secure)],
    // Loopback only: no endpoint for the `kubernetes` Service (it would need an address other machines reach).
    ...['--advertise-address', '127.0.0.1', '--endpoint-reconciler-type', 'none'],
    ...['--cert-dir', join(dir, 'certs'), '--token-auth-file', join(dir, 'tokens.csv')],
    ...['--authorization-mode', 'AlwaysAllow', '--service-cluster-ip-range', '10.96.0.0/24'],
    ...['--service-account-issuer', 'https://kubernetes.default.svc'],
    ...['--service-account-key-file', join(dir, 'sa.pub'), '--service-account-signing-key-file', join(dir, 'sa.key')],
  ]);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'test', cluster: { server: `https://127.0.0.1:${secure}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'test', user: { token: 'test-token' } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
      'current-context': 'test',
    }),
  );
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const cluster = { dir, env, processes };
  await waitFor(
    'kube-apiserver ready',
    async () => (await kubectl(cluster, ['get', '--raw', '/readyz'])).stdout === 'ok',
    processes,
  );
  return cluster;
}

function kubectl(c: Cluster, args: string[], cwd = c.dir): Promise<{ stdout: string; stderr: string }> {
  return run(requireKubectl(), args, { env: c.env, cwd, encoding: 'utf8', maxBuffer: 16 << 20 });
}

async function stopCluster(c: Cluster | undefined): Promise<void> {
  if (!c) return;
  // The API server first: it holds connections to etcd.
  for (const p of [...c.processes].reverse()) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(c.dir, { recursive: true, force: true });
}

describe('deploy/kubernetes against a real kube-apiserver', () => {
  let cluster: Cluster | undefined;
  before(async () => {
    cluster = await startCluster();
  });
  after(() => stopCluster(cluster));

  it("docs/kubernetes.md's certificates and Secrets block runs as written against the cluster", async () => {
    const c = cluster!;
    symlinkSync(join(ROOT, 'bin'), join(c.dir, 'bin'));
    await run('bash', ['-euo', 'pipefail', '-c', documentedBlock()], { cwd: c.dir, env: c.env });
    const { stdout } = await kubectl(c, ['-n', 'mtls-edge', 'get', 'secrets', '-o', 'name']);
    assert.deepEqual(stdout.trim().split('\n').sort(), [
      'secret/mtls-edge-client-ca',
      'secret/mtls-edge-control-plane-tls',
      'secret/mtls-edge-envoy-tls',
      'secret/mtls-edge-server-tls',
      'secret/mtls-edge-signing-key',
    ]);
  });

  for (const overlay of overlayNames())
    it(`kubectl apply -k overlays/${overlay} --dry-run=server: the server accepts every object`, async () => {
      const dirOf = join(KUBERNETES_DIR, 'overlays', overlay);
      const { objects } = render(dirOf);
      const { stdout } = await kubectl(cluster!, ['apply', '-k', dirOf, '--dry-run=server', '--validate=strict']);
      const accepted = stdout.trim().split('\n');
      assert.equal(accepted.length, objects.length, stdout);
      for (const line of accepted) assert.match(line, /(created|configured|unchanged) \(server dry run\)$/);
    });

  it('the server refuses what the schema allows: a Deployment whose selector misses its pods', async () => {
    const { objects } = render(join(KUBERNETES_DIR, 'overlays', 'dev'));
    const envoy = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'mtls-edge-envoy') as Deployment;
    envoy.spec.selector.matchLabels = { 'app.kubernetes.io/name': 'nobody' };
    const file = join(cluster!.dir, 'broken.yaml');
    writeFileSync(file, stringify(envoy));
    await assert.rejects(
      kubectl(cluster!, ['apply', '-f', file, '--dry-run=server']),
      /selector` does not match template `labels`/,
    );
  });
});
