// Two control-plane replicas and Envoys whose bootstraps name both (`mtls-edge bootstrap --xds-host` twice), on one
// config: a public route (z) and a route whose identity headers the control plane signs over ext_authz (x). Its policy
// reads the path, so Envoy keeps none of its allows (identity-cache.ts): every request is a Check, failover or not.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireEnvoy, runCli } from '../support/edge.js';
import { createControlChannelPki, type ControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { startReplica } from '../support/replica-key.js';
import type { LoadTarget } from '../support/steady-load.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import * as fixture from './control-channel-fixture.js';

export interface Replica {
  child: ChildProcess;
  adminUrl: string;
  xdsPort: number;
}

export interface Fleet {
  pki: TestPki;
  upstream: TestUpstream;
  configPath: string;
  httpsPort: number;
  nodes: string[];
  replicas: Replica[];
  /** Each Envoy's admin address, in the order of `nodes`. */
  envoyAdminUrls: string[];
  /**
   * Checks the first ext_authz filter got no answer to and passed on to the second (Envoy's
   * ext_authz.failure_mode_allowed, over every Envoy): a Check cut off mid-answer, or one no retry could place.
   */
  passedOn(): Promise<number>;
  writeConfig(edit: string): void;
  /** Waits until the node ids streaming from the live replicas satisfy `done`. */
  waitForNodes(what: string, done: (seen: string[]) => boolean, timeoutMs?: number): Promise<void>;
  /** The replica `node` streams from. */
  replicaOf(node: string): Promise<Replica>;
  target(host: string, path: string): LoadTarget;
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** Real replicas (`run --no-envoy`), 2 by default. */
  replicas?: number;
  /** Starts another control-plane endpoint on the control channel's PKI; its port is named in every bootstrap. */
  standIn?: (channel: ControlChannelPki) => Promise<number>;
}

export async function startFleet(name: string, nodes: string[], options: FleetOptions = {}): Promise<Fleet> {
  requireEnvoy();
  const pki = await createTestPki();
  const channel: ControlChannelPki = await createControlChannelPki(pki.dir);
  const upstream = await startUpstream(name);
  const httpsPort = await freePort();
  const configPath = join(pki.dir, `${name}.yaml`);
  const writeConfig = (edit: string) =>
    writeFileSync(configPath, configYaml(channel, nodes, httpsPort, upstream, edit));
  writeConfig('1');
  const replicas: Replica[] = [];
  const envoys: ChildProcess[] = [];
  const envoyAdminPorts: number[] = [];
  for (let i = 0; i < (options.replicas ?? 2); i++) {
    const [admin, xdsPort] = [await freePort(), await freePort()];
    const env = { ADMIN_ADDRESS: `127.0.0.1:${admin}`, XDS_ADDRESS: `127.0.0.1:${xdsPort}` };
    replicas.push({ child: startReplica(configPath, env), adminUrl: `http://127.0.0.1:${admin}`, xdsPort });
  }
  for (const r of replicas) await fixture.waitForStatus(r.adminUrl, 'replica ready', (s) => s.ready, 20_000);
  const xdsPorts = replicas.map((r) => r.xdsPort);
  if (options.standIn) xdsPorts.push(await options.standIn(channel));
  for (const node of nodes) {
    const client = await channel.node(node);
    const hosts = xdsPorts.flatMap((port) => ['--xds-host', `127.0.0.1:${port}`]);
    envoyAdminPorts.push(await freePort());
    const res = await runCli([
      'bootstrap',
      ...['--config', configPath, '--node-id', node, ...hosts],
      ...['--envoy-admin-address', `127.0.0.1:${envoyAdminPorts.at(-1)}`],
      ...['--xds-client-cert', client.certFile, '--xds-client-key', client.keyFile, '--xds-ca', channel.caFile],
    ]);
    assert.equal(res.code, 0, res.stderr);
    const file = join(pki.dir, `bootstrap-${node}.yaml`);
    writeFileSync(file, res.stdout);
    const args = ['-c', file, '--disable-hot-restart', '--concurrency', '1', '--drain-time-s', '1'];
    envoys.push(spawn(requireEnvoy(), [...args, '--log-level', 'warning'], { stdio: 'ignore' }));
  }
  const alive = (r: Replica) => r.child.exitCode === null && r.child.signalCode === null;
  const nodesOn = async (r: Replica) =>
    (await fixture.fetchStatus(r.adminUrl).catch(() => undefined))?.nodes.map((n) => n.node) ?? [];
  const waitForNodes = async (what: string, done: (seen: string[]) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = (await Promise.all(replicas.filter(alive).map(nodesOn))).flat();
      if (done(seen)) return;
      if (Date.now() > deadline) throw new Error(`${what}: not reached; nodes seen ${seen.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await waitForNodes('every Envoy streams from a replica', (seen) => nodes.every((n) => seen.includes(n)));
  // Streaming is not serving: Envoy's /ready turns 200 once its first listeners, routes and secrets are in place.
  for (const port of envoyAdminPorts) await waitForEnvoyLive(port);
  return {
    pki,
    upstream,
    configPath,
    httpsPort,
    nodes,
    replicas,
    envoyAdminUrls: envoyAdminPorts.map((port) => `http://127.0.0.1:${port}`),
    passedOn: async () => {
      let n = 0;
      for (const port of envoyAdminPorts) {
        const url = `http://127.0.0.1:${port}/stats?filter=ext_authz.failure_mode_allowed$`;
        const text = await (await fetch(url)).text();
        for (const m of text.matchAll(/^http\.[^:]*\.ext_authz\.failure_mode_allowed: (\d+)$/gm)) n += Number(m[1]);
      }
      return n;
    },
    writeConfig,
    waitForNodes,
    replicaOf: async (node) => {
      const index = (await Promise.all(replicas.map(nodesOn))).findIndex((seen) => seen.includes(node));
      assert.ok(index >= 0, `${node} streams from one of the replicas`);
      return replicas[index]!;
    },
    target: (host, path) => ({
      port: httpsPort,
      host,
      path,
      ca: pki.caA,
      ...pki.clientA,
      expect: (status, body) => status === 200 && body.startsWith(`upstream ${name}`),
    }),
    stop: async () => {
      await fixture.stopChildren([...envoys, ...replicas.map((r) => r.child)]);
      await upstream.close();
    },
  };
}

function configYaml(
  channel: ControlChannelPki,
  nodes: string[],
  httpsPort: number,
  upstream: TestUpstream,
  edit: string,
): string {
  return `address: 127.0.0.1:${httpsPort}
${channel.yaml}xds_node_ids: [${nodes.join(', ')}]
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.z}
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
    set_request_headers:
      x-edit: "${edit}"
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    tls_downstream_client_ca_file: ca-a.pem
    pass_identity_headers: true
    policy:
      - allow:
          and:
            - authenticated_user: true
            - http_path:
                starts_with: /
`;
}

async function waitForEnvoyLive(adminPort: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${adminPort}/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`Envoy (admin ${adminPort}) not live after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
