import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { isAlive } from '../../control-plane/src/runtime/envoy-home.js';
import { REPLICA_ENV } from '../support/replica-key.js';
import { runCli, startEdge, type RunningEdge } from '../support/edge.js';
import { freePort } from '../support/ports.js';
import { httpsGet } from '../support/https-client.js';
import { createControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const yaml = (upstream: TestUpstream) => `
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.z}
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
`;

describe('mtls-edge run: admin endpoints and a clean stop', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let edge: RunningEdge;

  before(async () => {
    pki = await createTestPki();
    upstream = await startUpstream('z');
    edge = await startEdge({ dir: pki.dir, yaml: yaml(upstream) });
  });
  after(async () => {
    await edge?.stop();
    await upstream?.close();
  });

  it("Envoy's Prometheus stats name each cluster whole: no address dots for tag extraction to cut at", async () => {
    assert.equal((await httpsGet({ port: edge.httpsPort, servername: HOSTS.z, ca: pki.caA })).status, 200);
    const text = await (await fetch(`${edge.envoyAdminUrl}/stats/prometheus`)).text();
    const names = new Set([...text.matchAll(/envoy_cluster_name="([^"]*)"/g)].map((m) => m[1]));
    const upstreamPort = new URL(upstream.url).port;
    assert.ok(names.has(`http-127_0_0_1-${upstreamPort}`), `cluster names: ${[...names].join(', ')}`);
    for (const name of names) assert.doesNotMatch(name ?? '', /\./, `a dot in a cluster's stat name: ${name}`);
    assert.doesNotMatch(text, /^envoy_cluster_0_0_1/m, 'no metric named after a piece of an address');
  });

  it('/healthz answers while the process is up', async () => {
    const res = await fetch(`${edge.adminUrl}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('/readyz and /synced are 200; /status shows the node with every type ACKed at the current version', async () => {
    assert.equal((await fetch(`${edge.adminUrl}/readyz`)).status, 200);
    assert.equal((await fetch(`${edge.adminUrl}/synced`)).status, 200);
    const status = await edge.status();
    assert.match(status.configVersion, /^[0-9a-f]{16}$/);
    assert.equal(status.ready, true);
    assert.equal(status.synced, true);
    assert.equal(status.nodes.length, 1);
    const node = status.nodes[0]!;
    assert.equal(node.node, 'mtls-edge');
    const types = node.types.map((t) => t.typeUrl.split('.').at(-1)).sort();
    assert.deepEqual(types, ['Cluster', 'Listener', 'RouteConfiguration', 'Secret']);
    for (const t of node.types) {
      assert.ok(t.acked, `${t.typeUrl} acknowledged`);
      assert.equal(t.nack, undefined);
    }
  });

  it('/metrics exposes readiness and the xDS stream count in Prometheus format', async () => {
    const text = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    assert.match(text, /^mtls_edge_ready 1$/m);
    assert.match(text, /^mtls_edge_xds_streams 1$/m);
    assert.match(text, /^mtls_edge_xds_nacks_total 0$/m);
  });

  it("Envoy's listener really serves: the public route answers through it", async () => {
    assert.deepEqual(await httpsGet({ port: edge.httpsPort, servername: HOSTS.z, ca: pki.caA }), {
      status: 200,
      body: 'upstream z /',
    });
  });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  it(`${signal} stops the control plane and Envoy with it (no orphaned Envoy)`, async () => {
    const pki = await createTestPki();
    const upstream = await startUpstream('z');
    try {
      const edge = await startEdge({ dir: pki.dir, yaml: yaml(upstream) });
      const { envoyPid } = await edge.status();
      assert.ok(envoyPid && isAlive(envoyPid), 'Envoy runs while the edge runs');
      assert.equal(await edge.stop(signal), 0);
      assert.equal(isAlive(envoyPid), false, 'Envoy is gone once mtls-edge has exited');
    } finally {
      await upstream.close(); // an open server would keep the test process alive
    }
  });
}

it('exits with an error instead of hanging when a port it needs is taken', async () => {
  const pki = await createTestPki();
  const blocker = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const taken = (blocker.address() as AddressInfo).port;
  const channel = await createControlChannelPki(pki.dir);
  const file = join(pki.dir, 'taken.yaml');
  writeFileSync(
    file,
    `admin_address: 127.0.0.1:${taken}\nxds_address: 127.0.0.1:${await freePort()}\n${channel.yaml}certificate_file: server.pem\ncertificate_key_file: server-key.pem\nroutes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
  );
  try {
    const res = await runCli(['run', '--config', file, '--no-envoy'], REPLICA_ENV, 10_000);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /EADDRINUSE/);
  } finally {
    blocker.close();
  }
});
