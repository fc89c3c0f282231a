// The processes and files of the fan-out bench: the certificates (the edge's, the control channel's, one client
// certificate per node id, as `mtls-edge certs envoy NODE_ID` issues them), the config with 1,000 routes, control-plane
// replicas (`run --no-envoy` with a shared signing key) and real Envoys bootstrapped by `mtls-edge bootstrap`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { findEnvoy } from '../src/runtime/find-envoy.js';
import { NODE_URI_PREFIX } from '../src/xds/index.js';
import { cpuMicros, freePort } from './load.js';
import { CLI } from './processes.js';

export interface FanoutPki {
  dir: string;
  /** The control channel's lines of the config. */
  yaml: string;
  caFile: string;
  /** gRPC credentials of a node (its own certificate). */
  credentials(nodeId: string): grpc.ChannelCredentials;
  /** The certificate and key files of a node, for a real Envoy's bootstrap. */
  files(nodeId: string): { cert: string; key: string };
}

/** Every node's certificate up front (P-256 keys: about a millisecond each). */
export async function createFanoutPki(dir: string, nodeIds: readonly string[]): Promise<FanoutPki> {
  const edgeCa = await createRootCa({ commonName: 'fan-out bench CA' });
  const edge = await issueServerCertificate(edgeCa, { dnsNames: ['*.bench.test'] });
  writeFileSync(join(dir, 'ca.pem'), edgeCa.certPem);
  writeFileSync(join(dir, 'server.pem'), edge.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), edge.keyPem, { mode: 0o600 });
  const ca = await createRootCa({ commonName: 'fan-out bench control channel CA' });
  const server = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const caFile = join(dir, 'control-plane-ca.pem');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(join(dir, 'control-plane.pem'), server.chainPem);
  writeFileSync(join(dir, 'control-plane-key.pem'), server.keyPem, { mode: 0o600 });
  const nodes = new Map<string, { cert: string; key: string }>();
  for (const id of nodeIds) {
    const c = await issueClientCertificate(ca, {
      commonName: id,
      uris: [NODE_URI_PREFIX + id],
      extendedKeyUsage: 'clientAuth',
    });
    nodes.set(id, { cert: c.certPem, key: c.keyPem });
  }
  const node = (id: string) => {
    const n = nodes.get(id);
    if (!n) throw new Error(`no certificate for node ${id}`);
    return n;
  };
  return {
    dir,
    // No xds_node_ids: each certificate names its one node, and may speak only as that node.
    yaml:
      `xds_certificate_file: control-plane.pem\nxds_certificate_key_file: control-plane-key.pem\n` +
      `xds_client_ca_file: control-plane-ca.pem\n`,
    caFile,
    credentials: (id) =>
      grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(node(id).key), Buffer.from(node(id).cert)),
    files: (id) => {
      const files = { cert: join(dir, `envoy-${id}.pem`), key: join(dir, `envoy-${id}-key.pem`) };
      writeFileSync(files.cert, node(id).cert);
      writeFileSync(files.key, node(id).key, { mode: 0o600 });
      return files;
    },
  };
}

/** The port the first route's upstream moves between; both stay in use by other routes, so clusters never change. */
export const EDIT_PORTS = [9000, 9001] as const;

export function fanoutConfig(pki: FanoutPki, httpsPort: number, routes: number, firstTo: number): string {
  const lines = [
    `address: 127.0.0.1:${httpsPort}`,
    pki.yaml.trimEnd(),
    'certificate_file: server.pem',
    'certificate_key_file: server-key.pem',
    'client_ca_file: ca.pem',
    'routes:',
  ];
  for (let i = 0; i < routes; i++) {
    const port = i === 0 ? firstTo : i <= EDIT_PORTS.length ? EDIT_PORTS[i - 1]! : 8000 + (i % 100);
    lines.push(
      `  - from: https://r${i}.bench.test`,
      `    to: http://127.0.0.1:${port}`,
      '    allow_any_authenticated_user: true',
    );
  }
  return lines.join('\n') + '\n';
}

export interface Replica {
  child: ChildProcess;
  pid: number;
  adminUrl: string;
  xds: string;
}

/** The key replicas share: `run --no-envoy` refuses to start without one. */
const SIGNING_KEY = Buffer.from(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
).toString('base64');

export async function startReplica(configPath: string, extraArgs: string[] = []): Promise<Replica> {
  const [admin, xds] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [...extraArgs, CLI, 'run', '--config', configPath, '--no-envoy'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      SIGNING_KEY,
      ADMIN_ADDRESS: `127.0.0.1:${admin}`,
      XDS_ADDRESS: `127.0.0.1:${xds}`,
    },
  });
  const replica = { child, pid: child.pid!, adminUrl: `http://127.0.0.1:${admin}`, xds: `127.0.0.1:${xds}` };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${replica.adminUrl}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return replica;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the replica (${configPath}) ${child.exitCode !== null ? 'exited' : 'is not ready after 60 s'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RealEnvoy {
  node: string;
  child: ChildProcess;
  adminUrl: string;
}

/** A real Envoy with the bootstrap `mtls-edge bootstrap` prints for `node`, streaming from `replica`. */
export async function startRealEnvoy(
  pki: FanoutPki,
  configPath: string,
  node: string,
  replica: Replica,
  protocol: 'sotw' | 'delta',
): Promise<RealEnvoy> {
  const found = findEnvoy(process.env);
  if ('error' in found) throw new Error(found.error);
  const files = pki.files(node);
  const admin = await freePort();
  const { stdout } = await promisify(execFile)(process.execPath, [
    ...[CLI, 'bootstrap', '--config', configPath, '--node-id', node, '--xds-host', replica.xds],
    ...['--envoy-admin-address', `127.0.0.1:${admin}`, '--xds-protocol', protocol],
    ...['--xds-client-cert', files.cert, '--xds-client-key', files.key, '--xds-ca', pki.caFile],
  ]);
  const bootstrap = join(pki.dir, `bootstrap-${node}.yaml`);
  writeFileSync(bootstrap, stdout);
  const args = ['-c', bootstrap, '--disable-hot-restart', '--concurrency', '1', '--log-level', 'error'];
  const child = spawn(found.path, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return { node, child, adminUrl: `http://127.0.0.1:${admin}` };
}

/** SIGTERM, then wait for the exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Resident memory now and at its peak (MiB), and CPU time so far (ms), from /proc. */
export function processUsage(pid: number): { rssMiB: number; peakMiB: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024, cpuMs: cpuMicros(pid) / 1000 };
}
