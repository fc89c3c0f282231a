// The contract between translate/ (which builds resources) and xds/ (which serves them).
import type {
  envoy_config_cluster_v3,
  envoy_config_listener_v3,
  envoy_config_route_v3,
  envoy_extensions_transport_sockets_tls_v3,
} from './generated/index.js';

/** Any message as proto3 JSON with snake_case fields (what the codec decodes); nested `Any` values carry `@type`. */
export type EnvoyJson = { [field: string]: unknown };

export const TYPE_URL = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type ResourceKind = keyof typeof TYPE_URL;

/** The message each resource kind is, as the generated types describe it. */
interface ResourceTypes {
  listener: envoy_config_listener_v3.Listener;
  routeConfiguration: envoy_config_route_v3.RouteConfiguration;
  cluster: envoy_config_cluster_v3.Cluster;
  secret: envoy_extensions_transport_sockets_tls_v3.Secret;
}

/** One resource of a kind (any kind when not given) and the name it is served under. */
export interface NamedResource<K extends ResourceKind = ResourceKind> {
  name: string;
  resource: ResourceTypes[K];
}

/** Everything Envoy needs for one config, each list sorted by name. */
export interface EnvoyResources {
  clusters: NamedResource<'cluster'>[];
  listeners: NamedResource<'listener'>[];
  routeConfigurations: NamedResource<'routeConfiguration'>[];
  secrets: NamedResource<'secret'>[];
  /**
   * Served (renamed) only when Envoy asks for a route configuration of an older trust generation: never pushed
   * unasked. Built on first call (a copy of every route with a CA: most configs never need it).
   */
  staleRouteConfiguration?: () => NamedResource<'routeConfiguration'>;
  /** Served under an older generation name instead of the stale template after Envoy refused this edit's routes. */
  closedRouteConfiguration?: NamedResource<'routeConfiguration'>;
}

/**
 * A route configuration name of a trust generation (`routes-<requirement>@<generation>`, translate/names.ts):
 * one the current config does not serve is answered with the stale template above.
 */
export function isGenerationRouteConfigurationName(name: string): boolean {
  return /^routes-[a-z0-9-]+@[0-9a-f]+$/.test(name);
}
