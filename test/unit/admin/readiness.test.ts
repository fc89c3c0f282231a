// Issue 13: readiness means "this replica has a valid snapshot and serves xDS", usable as a Kubernetes readiness
// probe; it never waits for an Envoy (a replica that waited for one would never be sent any). Whether every
// connected Envoy runs the current snapshot is /synced, and /status's `synced`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createAdminApp, createMetrics, listen } from '../../../control-plane/src/admin/server.js';
import { AdsServer } from '../../../control-plane/src/xds/index.js';
import { baseResources, snapshotOf } from '../xds/fixtures.js';

const ads = new AdsServer(pino({ level: 'silent' }));
const reload = { reloads: 0, failures: 0, errors: [] };
const metrics = createMetrics(ads, reload);
const app = createAdminApp(ads, { configFile: 'config.yaml', envoyPid: () => undefined, reload }, metrics);
const folder = mkdtempSync(join(tmpdir(), 'mtls-edge-readiness-'));
let server: Server | undefined;

after(async () => {
  server?.close();
  await ads.close();
  rmSync(folder, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  server ??= await listen(app, { host: '127.0.0.1', port: 0 });
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const res = await fetch(`http://127.0.0.1:${address.port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(name: string): Promise<string | undefined> {
  const text = await metrics.registry.metrics();
  return text.split('\n').find((line) => line.startsWith(`${name} `));
}

test('not ready without a snapshot, nor with one before the xDS server listens', async () => {
  assert.equal((await get('/readyz')).status, 503);
  ads.setSnapshot(snapshotOf(baseResources()));
  assert.equal((await get('/readyz')).status, 503, 'a snapshot alone serves nobody');
  assert.equal(await metric('mtls_edge_ready'), 'mtls_edge_ready 0');
});

test('ready once it has a snapshot and listens, with no Envoy connected; /synced says no Envoy runs it', async () => {
  await ads.listenPrivateSocket(join(folder, 'xds.sock'));
  const ready = await get('/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.body['ready'], true);
  assert.equal(ready.body['version'], ads.current?.version);
  const synced = await get('/synced');
  assert.equal(synced.status, 503);
  assert.deepEqual(synced.body, { synced: false, envoys: 0, version: ads.current?.version });
  const status = await get('/status');
  assert.equal(status.body['ready'], true);
  assert.equal(status.body['synced'], false);
  assert.equal(await metric('mtls_edge_ready'), 'mtls_edge_ready 1');
  assert.equal(await metric('mtls_edge_envoys_synced'), 'mtls_edge_envoys_synced 0');
});

test('not ready once it shuts down (SIGTERM closes the xDS server first)', async () => {
  const closing = ads.close();
  assert.equal((await get('/readyz')).status, 503);
  assert.equal(await metric('mtls_edge_ready'), 'mtls_edge_ready 0');
  await closing;
});
