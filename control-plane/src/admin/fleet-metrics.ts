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
 * A counter over a count kept elsewhere: each scrape adds what the count grew by. A count that restarts from zero
 * (a node forgotten and seen again) comes with another `epoch`, and is added whole; one that went down is too.
 */
export function sourcedCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => Array<[Labels, number, epoch?: string]>,
  labelNames: readonly string[] = [],
): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const present = new Set<string>();
      for (const [labels, value, epoch] of read()) {
        const key = JSON.stringify([labels, epoch ?? '']);
        present.add(key);
        const before = last.get(key) ?? 0;
        const grew = value >= before ? value - before : value;
        if (grew > 0) this.inc(labels, grew);
        else if (!last.has(key)) this.inc(labels, 0);
        last.set(key, value);
      }
      // Series the source no longer has (a node forgotten): their last values would only grow this map.
      for (const key of last.keys()) if (!present.has(key)) last.delete(key);
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
    () => envoys().map((e): [Labels, number, string] => [{ node: e.node }, e.nacks, e.firstSeenAt]),
    ['node'],
  );
}
