import { Counter, Gauge, type Registry } from 'prom-client';
import type { AdsServer } from '../xds/index.js';

// Metrics whose values live elsewhere (the reloader's counts, the xDS server's view of each Envoy), read when
// Prometheus scrapes. A count that only grows is a Prometheus counter (`_total`), never a gauge set to it.

type Labels = Record<string, string>;

/** A gauge read at scrape time. */
export function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * A counter over a count kept elsewhere: each scrape adds what the count grew by. A count that went down (a node
 * forgotten and seen again) is taken as a restart of that series' count: it adds the new value.
 */
export function sourcedCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => Array<[Labels, number]>,
  labelNames: readonly string[] = [],
): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, value] of read()) {
        const key = JSON.stringify(labels);
        const before = last.get(key) ?? 0;
        const grew = value >= before ? value - before : value;
        if (grew > 0) this.inc(labels, grew);
        else if (!last.has(key)) this.inc(labels, 0);
        last.set(key, value);
      }
    },
  });
}

/** Per Envoy (node id): connected, the config version it runs, time since its last ACK, NACKs. */
export function registerFleetMetrics(registry: Registry, ads: AdsServer): void {
  const envoys = () => ads.fleet.view();
  new Gauge({
    name: 'mtls_edge_envoy_connected',
    help: '1 while the Envoy (node id) has an ADS stream to this replica; 0 once it left',
    labelNames: ['node'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of envoys()) this.set({ node: e.node }, e.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mtls_edge_envoy_last_ack_age_seconds',
    help: "Seconds since the Envoy last acknowledged a response (grows when it lost its control plane's stream)",
    labelNames: ['node'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of envoys()) if (e.secondsSinceLastAck !== null) this.set({ node: e.node }, e.secondsSinceLastAck);
    },
  });
  new Gauge({
    name: 'mtls_edge_envoy_config_info',
    help: 'The snapshot version the Envoy last ran in full (value always 1)',
    labelNames: ['node', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of envoys()) if (e.syncedVersion !== null) this.set({ node: e.node, version: e.syncedVersion }, 1);
    },
  });
  sourcedCounter(
    registry,
    'mtls_edge_envoy_nacks_total',
    'Responses the Envoy refused (NACK)',
    () => envoys().map((e): [Labels, number] => [{ node: e.node }, e.nacks]),
    ['node'],
  );
}
