import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { SocketAddress } from '../config/index.js';
import { isIpAddress } from '../model/hostnames.js';
import { envoyAdminCluster, healthListener, metricsListener } from './bootstrap-listeners.js';

export type XdsProtocol = 'sotw' | 'delta';

/**
 * How Envoy reaches the control plane: mutual TLS (every Envoy deployed on its own), or the private Unix socket of
 * `run`'s child Envoy. File paths are as Envoy sees them (inside its container, say).
 */
export type XdsChannel =
  | {
      kind: 'tls';
      address: SocketAddress;
      /** Further control-plane replicas Envoy may use (each `--xds-host` after the first). */
      otherAddresses?: SocketAddress[];
      serverName: string;
      caFile: string;
      certFile: string;
      keyFile: string;
    }
  | { kind: 'private-socket'; path: string };

export interface BootstrapValues {
  nodeId: string;
  xds: XdsChannel;
  envoyAdmin: SocketAddress;
  /** State of the world (the default) or incremental xDS. */
  protocol?: XdsProtocol;
  /** The health listener (GET /healthz), if any. */
  health?: SocketAddress;
  /** The metrics listener (GET /metrics), if any. */
  metrics?: SocketAddress;
}

const XDS_CLUSTER = ['static_resources', 'clusters', 0];

/** Fills the `${NAME}` placeholders of envoy/bootstrap.yaml. Unknown placeholders are an error, never left in. */
export function renderBootstrap(template: string, v: BootstrapValues): string {
  const tls = v.xds.kind === 'tls' ? v.xds : undefined;
  const dialed = (a: SocketAddress) => ({ host: a.host === '0.0.0.0' ? '127.0.0.1' : a.host, port: a.port });
  const addresses = tls ? [tls.address, ...(tls.otherAddresses ?? [])].map(dialed) : [{ host: '127.0.0.1', port: 1 }];
  const serverName = tls?.serverName ?? 'localhost';
  const endpoints = addresses.map((a) => ({
    endpoint: { address: { socket_address: { address: a.host, port_value: a.port } } },
  }));
  const values: Record<string, string> = {
    NODE_ID: JSON.stringify(v.nodeId),
    ADS_API_TYPE: v.protocol === 'delta' ? 'DELTA_GRPC' : 'GRPC',
    ENVOY_ADMIN_HOST: JSON.stringify(v.envoyAdmin.host),
    ENVOY_ADMIN_PORT: String(v.envoyAdmin.port),
    // JSON is YAML: a flow sequence of endpoints.
    XDS_LB_ENDPOINTS: JSON.stringify(endpoints),
    // A host name (a compose service, say) needs DNS; addresses do not.
    XDS_CLUSTER_TYPE: addresses.every((a) => isIpAddress(a.host)) ? 'STATIC' : 'STRICT_DNS',
    XDS_SERVER_NAME: JSON.stringify(serverName),
    XDS_SERVER_SAN_TYPE: isIpAddress(serverName) ? 'IP_ADDRESS' : 'DNS',
    XDS_CA_FILE: JSON.stringify(tls?.caFile ?? ''),
    XDS_CLIENT_CERT_FILE: JSON.stringify(tls?.certFile ?? ''),
    XDS_CLIENT_KEY_FILE: JSON.stringify(tls?.keyFile ?? ''),
  };
  const text = template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`envoy/bootstrap.yaml: unknown placeholder \${${name}}`);
    return value;
  });
  const withSocket = v.xds.kind === 'private-socket' ? overPrivateSocket(text, v.xds.path) : text;
  return v.health || v.metrics ? withOwnListeners(withSocket, v) : withSocket;
}

/** Adds the health and metrics listeners (and, for metrics, the cluster to the admin API) to static_resources. */
function withOwnListeners(text: string, v: BootstrapValues): string {
  const doc = parseDocument(text);
  const listeners = [v.health && healthListener(v.health), v.metrics && metricsListener(v.metrics)].filter(Boolean);
  doc.setIn(['static_resources', 'listeners'], doc.createNode(listeners));
  if (v.metrics) doc.addIn(['static_resources', 'clusters'], doc.createNode(envoyAdminCluster(v.envoyAdmin)));
  return doc.toString();
}

/** The same bootstrap, with the ADS cluster on a Unix socket and no TLS (the socket's folder is the access control). */
function overPrivateSocket(text: string, path: string): string {
  const doc = parseDocument(text);
  doc.setIn([...XDS_CLUSTER, 'type'], 'STATIC');
  doc.setIn(
    [...XDS_CLUSTER, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address'],
    doc.createNode({ pipe: { path } }),
  );
  doc.deleteIn([...XDS_CLUSTER, 'transport_socket']);
  return doc.toString();
}

export function readBootstrapTemplate(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'envoy', 'bootstrap.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('envoy/bootstrap.yaml not found');
    dir = parent;
  }
  return readFileSync(join(dir, 'envoy', 'bootstrap.yaml'), 'utf8');
}
