import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { SocketAddress } from '../config/index.js';
import { isIpAddress } from '../model/hostnames.js';

export type XdsProtocol = 'sotw' | 'delta';

export interface BootstrapValues {
  nodeId: string;
  xds: SocketAddress;
  envoyAdmin: SocketAddress;
  /** State of the world (the default) or incremental xDS. */
  protocol?: XdsProtocol;
}

/** Fills the `${NAME}` placeholders of envoy/bootstrap.yaml. Unknown placeholders are an error, never left in. */
export function renderBootstrap(template: string, v: BootstrapValues): string {
  const values: Record<string, string> = {
    NODE_ID: JSON.stringify(v.nodeId),
    ADS_API_TYPE: v.protocol === 'delta' ? 'DELTA_GRPC' : 'GRPC',
    ENVOY_ADMIN_HOST: JSON.stringify(v.envoyAdmin.host),
    ENVOY_ADMIN_PORT: String(v.envoyAdmin.port),
    XDS_HOST: JSON.stringify(v.xds.host === '0.0.0.0' ? '127.0.0.1' : v.xds.host),
    XDS_PORT: String(v.xds.port),
    // A host name (a compose service, say) needs DNS; an address does not.
    XDS_CLUSTER_TYPE: isIpAddress(v.xds.host) ? 'STATIC' : 'STRICT_DNS',
  };
  return template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`envoy/bootstrap.yaml: unknown placeholder \${${name}}`);
    return value;
  });
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
