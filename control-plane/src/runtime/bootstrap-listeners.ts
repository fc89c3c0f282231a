// The listeners each Envoy has from its bootstrap, whatever the control plane says: one for load balancers and
// probes, one for Prometheus. They belong to the Envoy, not to the config it is served (two Envoys on one machine
// need two ports), and they must keep working while the control plane is away.
import type { SocketAddress } from '../config/index.js';

/** Envoy's admin API, reached only through the metrics listener's one rewritten path. */
const ENVOY_ADMIN_CLUSTER = 'mtls-edge-envoy-admin';
const HEALTH_PATH = '/healthz';
const METRICS_PATH = '/metrics';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};
const NOT_FOUND = { match: { prefix: '/' }, direct_response: { status: 404 } };
const GET_ONLY = [{ name: ':method', string_match: { exact: 'GET' } }];

const socketAddress = (a: SocketAddress) => ({ socket_address: { address: a.host, port_value: a.port } });

function httpListener(name: string, address: SocketAddress, routes: unknown[], filters: unknown[]) {
  return {
    name,
    address: socketAddress(address),
    // Stats under listener.mtls_edge_health.* (not the address), which the drain's connection count leaves out.
    stat_prefix: name.replace(/-/g, '_'),
    // A probe or a scrape during a shutdown is answered in full, not told to go away.
    drain_type: 'MODIFY_ONLY',
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name.replace(/-/g, '_'),
              route_config: { virtual_hosts: [{ name, domains: ['*'], routes: [...routes, NOT_FOUND] }] },
              http_filters: [...filters, ROUTER],
            },
          },
        ],
      },
    ],
  };
}

/**
 * GET /healthz: 200 while Envoy serves, 503 from the moment it is told to stop (admin POST /healthcheck/fail, which
 * `mtls-edge drain` and `run` send before draining), so a balancer stops sending new connections before they fail.
 * Envoy opens its listeners only once its first config is in place: before that, the port refuses.
 */
export function healthListener(address: SocketAddress) {
  return httpListener(
    'mtls-edge-health',
    address,
    [],
    [
      {
        name: 'envoy.filters.http.health_check',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck',
          pass_through_mode: false,
          headers: [{ name: ':path', string_match: { exact: HEALTH_PATH } }],
        },
      },
    ],
  );
}

/**
 * GET /metrics: Envoy's stats in Prometheus's text format. Only this path is passed to the admin API (rewritten to
 * /stats/prometheus), so the admin API itself, which can change and dump config, stays on loopback.
 */
export function metricsListener(address: SocketAddress) {
  const route = { cluster: ENVOY_ADMIN_CLUSTER, prefix_rewrite: '/stats/prometheus' };
  return httpListener('mtls-edge-metrics', address, [{ match: { path: METRICS_PATH, headers: GET_ONLY }, route }], []);
}

export function envoyAdminCluster(admin: SocketAddress) {
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '::1' : admin.host;
  return {
    name: ENVOY_ADMIN_CLUSTER,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: ENVOY_ADMIN_CLUSTER,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress({ host, port: admin.port }) } }] }],
    },
  };
}
