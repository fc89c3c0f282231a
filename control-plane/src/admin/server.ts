import type { Server } from 'node:http';
import express from 'express';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { gauge, registerFleetMetrics, sourcedCounter } from './fleet-metrics.js';
import type { SocketAddress } from '../config/index.js';
import { formatError } from '../config/index.js';
import type { ReloadState } from '../runtime/reloader.js';
import type { AdsServer } from '../xds/index.js';

export interface AdminState {
  configFile: string;
  envoyPid: () => number | undefined;
  /** Whether `run`'s Envoy is one a previous run left serving (its logs are not forwarded). */
  envoyAdopted?: () => boolean;
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
  // prom-client reports these counts of the moment as gauges named `_total`, which Prometheus reserves for
  // counters (promtool refuses them); the process metrics that matter stay.
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`mtls_edge_nodejs_${name}`);
  sourcedCounter(registry, 'mtls_edge_authz_cache_hits_total', 'ext_authz decisions answered from the cache', () => [
    [{}, authzCache().hits],
  ]);
  sourcedCounter(
    registry,
    'mtls_edge_authz_cache_misses_total',
    'ext_authz decisions that evaluated the policy',
    () => [[{}, authzCache().misses]],
  );
  sourcedCounter(registry, 'mtls_edge_config_reloads_total', 'Config changes applied since start', () => [
    [{}, reload.reloads],
  ]);
  sourcedCounter(
    registry,
    'mtls_edge_config_reload_failures_total',
    'Config edits rejected (the last good config kept serving)',
    () => [[{}, reload.failures]],
  );
  gauge(registry, 'mtls_edge_xds_streams', 'Connected Envoy ADS streams', () => ads.status().length);
  gauge(registry, 'mtls_edge_ready', '1 when this replica has a valid snapshot and serves xDS (/readyz)', () =>
    ads.servesXds() ? 1 : 0,
  );
  gauge(
    registry,
    'mtls_edge_envoys_synced',
    '1 when at least one Envoy is connected and every connected one has acknowledged the current snapshot',
    () => (ads.everyEnvoySynced() ? 1 : 0),
  );
  gauge(
    registry,
    'mtls_edge_config_error',
    '1 while the config on disk is not what serves: it has errors, or Envoy rejected part of it',
    () => (reload.errors.length > 0 || ads.rejected?.active ? 1 : 0),
  );
  registerFleetMetrics(registry, ads);
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

/**
 * /healthz (the process is up), /readyz (this replica has a valid snapshot and serves xDS: a readiness probe),
 * /synced (every connected Envoy runs the current snapshot: what `run`, the demo and the tests wait on), /status,
 * /metrics.
 */
export function createAdminApp(ads: AdsServer, state: AdminState, metrics: AdminMetrics): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = ads.servesXds();
    res.status(ready ? 200 : 503).json({ ready, version: ads.current?.version ?? null });
  });
  app.get('/synced', (_req, res) => {
    const synced = ads.everyEnvoySynced();
    const envoys = ads.status().length;
    res.status(synced ? 200 : 503).json({ synced, envoys, version: ads.current?.version ?? null });
  });
  app.get('/status', (_req, res) => {
    res.json({
      configFile: state.configFile,
      configVersion: ads.current?.version ?? null,
      typeVersions: Object.fromEntries([...(ads.current?.types.values() ?? [])].map((t) => [t.typeUrl, t.version])),
      ready: ads.servesXds(),
      synced: ads.everyEnvoySynced(),
      syncedAt: ads.syncedAt?.toISOString() ?? null,
      envoyPid: state.envoyPid() ?? null,
      envoyAdopted: state.envoyAdopted?.() ?? false,
      reload: {
        ...state.reload,
        errors: state.reload.errors.map((e) => ({ ...e, text: formatError(e) })),
        ...(state.reload.identityProviderErrors
          ? { identityProviderErrors: state.reload.identityProviderErrors.map((e) => ({ ...e, text: formatError(e) })) }
          : {}),
      },
      rejected: ads.rejected ?? null,
      memory: process.memoryUsage(),
      nodes: ads.status(),
      // Per Envoy, connected or not: the version it runs, time since its last ACK, its last NACK.
      envoys: ads.fleet.view(),
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
