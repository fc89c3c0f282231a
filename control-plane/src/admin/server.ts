import type { Server } from 'node:http';
import express from 'express';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SocketAddress } from '../config/index.js';
import { formatError } from '../config/index.js';
import type { ReloadState } from '../runtime/reloader.js';
import type { AdsServer } from '../xds/index.js';

export interface AdminState {
  configFile: string;
  envoyPid: () => number | undefined;
  reload: ReloadState;
}

export interface AdminMetrics {
  registry: Registry;
  nacks: Counter;
  snapshots: Counter;
  authzDecisions: Counter<'decision' | 'cached'>;
}

export function createMetrics(
  ads: AdsServer,
  reload: ReloadState,
  authzCache: () => { hits: number; misses: number; size: number } = () => ({ hits: 0, misses: 0, size: 0 }),
): AdminMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mtls_edge_' });
  new Gauge({
    name: 'mtls_edge_authz_cache_hits_total',
    help: 'ext_authz decisions answered from the cache (per certificate fingerprint and route)',
    registers: [registry],
    collect() {
      this.set(authzCache().hits);
    },
  });
  new Gauge({
    name: 'mtls_edge_authz_cache_misses_total',
    help: 'ext_authz decisions that evaluated the policy',
    registers: [registry],
    collect() {
      this.set(authzCache().misses);
    },
  });
  new Gauge({
    name: 'mtls_edge_xds_streams',
    help: 'Connected Envoy ADS streams',
    registers: [registry],
    collect() {
      this.set(ads.status().length);
    },
  });
  new Gauge({
    name: 'mtls_edge_ready',
    help: '1 when every connected Envoy has acknowledged the current snapshot',
    registers: [registry],
    collect() {
      this.set(ads.isReady() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mtls_edge_config_reloads_total',
    help: 'Config changes applied since start',
    registers: [registry],
    collect() {
      this.set(reload.reloads);
    },
  });
  new Gauge({
    name: 'mtls_edge_config_reload_failures_total',
    help: 'Config edits rejected (the last good config kept serving)',
    registers: [registry],
    collect() {
      this.set(reload.failures);
    },
  });
  new Gauge({
    name: 'mtls_edge_config_error',
    help: '1 while the config on disk is not what serves: it has errors, or Envoy rejected part of it',
    registers: [registry],
    collect() {
      this.set(reload.errors.length > 0 || ads.rejected?.active ? 1 : 0);
    },
  });
  return {
    registry,
    nacks: new Counter({
      name: 'mtls_edge_xds_nacks_total',
      help: 'Responses rejected by Envoy',
      registers: [registry],
    }),
    snapshots: new Counter({
      name: 'mtls_edge_snapshots_total',
      help: 'Snapshots built from config',
      registers: [registry],
    }),
    authzDecisions: new Counter({
      name: 'mtls_edge_authz_decisions_total',
      help: 'ext_authz checks answered',
      labelNames: ['decision', 'cached'] as const,
      registers: [registry],
    }),
  };
}

/** /healthz (the process is up), /readyz (Envoy serves the current config), /status, /metrics. */
export function createAdminApp(ads: AdsServer, state: AdminState, metrics: AdminMetrics): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = ads.isReady();
    res.status(ready ? 200 : 503).json({ ready, version: ads.current?.version ?? null });
  });
  app.get('/status', (_req, res) => {
    res.json({
      configFile: state.configFile,
      configVersion: ads.current?.version ?? null,
      typeVersions: Object.fromEntries([...(ads.current?.types.values() ?? [])].map((t) => [t.typeUrl, t.version])),
      ready: ads.isReady(),
      syncedAt: ads.syncedAt?.toISOString() ?? null,
      envoyPid: state.envoyPid() ?? null,
      reload: { ...state.reload, errors: state.reload.errors.map((e) => ({ ...e, text: formatError(e) })) },
      rejected: ads.rejected ?? null,
      memory: process.memoryUsage(),
      nodes: ads.status(),
    });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

export function listen(app: express.Express, address: SocketAddress): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(address.port, address.host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
