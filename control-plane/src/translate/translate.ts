import type { EdgeModel } from '../model/index.js';
import { buildCluster } from './cluster.js';
import { httpFilterResources } from './http-filters/index.js';
import { buildListener } from './listener.js';
import { buildRouteConfiguration } from './route-configuration.js';
import { buildSecrets } from './secrets.js';
import { buildClosedRouteConfiguration, buildStaleRouteConfiguration } from './stale-route-configuration.js';
import type { ResourceKind } from '../envoy-api/index.js';
import type { EnvoyResources, NamedResource } from '../envoy-api/index.js';

/** Edge model → Envoy resources. Pure and deterministic: the same model gives byte-identical output. */
export function translate(model: EdgeModel): EnvoyResources {
  const filterResources = httpFilterResources(model);
  return {
    clusters: sortByName([...model.upstreams.map(buildCluster), ...filterResources.clusters]),
    listeners: [buildListener(model)],
    routeConfigurations: sortByName(model.classes.map((c) => buildRouteConfiguration(c, model.jwks, model.signIn))),
    secrets: sortByName([...buildSecrets(model), ...filterResources.secrets]),
    staleRouteConfiguration: once(() => buildStaleRouteConfiguration(model)),
    closedRouteConfiguration: buildClosedRouteConfiguration(),
  };
}

function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

function sortByName<K extends ResourceKind>(list: NamedResource<K>[]): NamedResource<K>[] {
  const sorted = list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // A repeated name would make one resource silently replace another in the snapshot.
  sorted.forEach((r, i) => {
    if (i > 0 && sorted[i - 1]!.name === r.name) throw new Error(`translator bug: two resources named ${r.name}`);
  });
  return sorted;
}
