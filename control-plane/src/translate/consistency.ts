import { CONTROL_PLANE_CLUSTER } from './http-filters/index.js';
import type { EnvoyResources } from '../envoy-api/index.js';

/** Clusters Envoy has from its bootstrap, not from the snapshot: resources may name them. */
const BOOTSTRAP_CLUSTERS: ReadonlySet<string> = new Set([CONTROL_PLANE_CLUSTER]);

interface References {
  routeConfigurations: Set<string>;
  clusters: Set<string>;
  secrets: Set<string>;
}

/**
 * What a snapshot must satisfy before it is served (go-control-plane's `Consistent()`): every route
 * configuration, cluster and secret a resource names exists, and every one served is named by something.
 * A dangling name makes Envoy wait for a resource that never comes (a listener stuck warming, a 503); an
 * unreferenced one is work and memory for nothing, and usually a translation bug. Returns what is wrong.
 */
export function inconsistencies(resources: EnvoyResources): string[] {
  const refs: References = { routeConfigurations: new Set(), clusters: new Set(), secrets: new Set() };
  for (const list of [resources.listeners, resources.routeConfigurations, resources.clusters])
    for (const r of list) collect(r.resource, refs);
  const problems: string[] = [];
  const check = (kind: string, served: string[], named: Set<string>, external: ReadonlySet<string> = new Set()) => {
    const have = new Set(served);
    for (const n of [...named].sort())
      if (!have.has(n) && !external.has(n))
        problems.push(`a resource names ${kind} "${n}", which the snapshot does not hold`);
    for (const n of [...have].sort()) if (!named.has(n)) problems.push(`${kind} "${n}" is served but nothing names it`);
  };
  check(
    'route configuration',
    resources.routeConfigurations.map((r) => r.name),
    refs.routeConfigurations,
  );
  check(
    'cluster',
    resources.clusters.map((r) => r.name),
    refs.clusters,
    BOOTSTRAP_CLUSTERS,
  );
  check(
    'secret',
    resources.secrets.map((r) => r.name),
    refs.secrets,
  );
  return problems;
}

/**
 * Names by the fields Envoy's API uses for them, anywhere in a resource (typed filter configs included). It walks
 * every object of every resource on each snapshot, so it allocates nothing on the way (`for…in`, no entry arrays).
 */
function collect(value: unknown, refs: References): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === 'object') collect(v, refs);
    return;
  }
  const o = value as Record<string, unknown>;
  // An SDS reference: { name, sds_config } (certificates, validation contexts).
  if (typeof o['name'] === 'string' && 'sds_config' in o) refs.secrets.add(o['name']);
  for (const key in o) {
    const v = o[key];
    if (typeof v === 'string') {
      if (key === 'route_config_name') refs.routeConfigurations.add(v);
      else if (key === 'cluster' || key === 'cluster_name') refs.clusters.add(v);
    } else if (typeof v !== 'object' || v === null || key === 'load_assignment') {
      // a scalar, or load_assignment: its cluster_name is the cluster's own
    } else if (key === 'weighted_clusters') {
      for (const c of (v as { clusters?: Array<{ name: string }> }).clusters ?? []) refs.clusters.add(c.name);
    } else {
      collect(v, refs);
    }
  }
}
