import type { EdgeModel } from '../model/index.js';
import { buildCluster } from './cluster.js';
import { buildListener } from './listener.js';
import { buildRouteConfiguration } from './route-configuration.js';
import { buildSecrets } from './secrets.js';
import type { EnvoyResources, NamedResource } from './types.js';

/** Edge model → Envoy resources. Pure and deterministic: the same model gives byte-identical output. */
export function translate(model: EdgeModel): EnvoyResources {
  return {
    clusters: sortByName(model.upstreams.map(buildCluster)),
    listeners: [buildListener(model)],
    routeConfigurations: sortByName(model.classes.map(buildRouteConfiguration)),
    secrets: sortByName(buildSecrets(model)),
  };
}

function sortByName(list: NamedResource[]): NamedResource[] {
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
