import { Diagnostics } from '../config/diagnostics.js';
import { parseAddress } from '../config/server.js';
import { readBootstrapTemplate, renderBootstrap, type XdsProtocol } from '../runtime/bootstrap.js';
import { loadAndCompile, printErrors } from './load.js';

export const DEFAULT_NODE_ID = 'mtls-edge';

export interface BootstrapOptions {
  nodeId?: string;
  /** The control plane's host as Envoy reaches it (a service name, say); the port is the config's xds_address port. */
  xdsHost?: string;
  /** Overrides the config's envoy_admin_address, so that several Envoys can share a machine. */
  envoyAdminAddress?: string;
  protocol?: XdsProtocol;
}

export function bootstrapCommand(configPath: string | undefined, o: BootstrapOptions): number {
  const result = loadAndCompile(configPath);
  if ('errors' in result) {
    printErrors(result.errors);
    return 1;
  }
  const diag = new Diagnostics();
  const envoyAdmin = o.envoyAdminAddress ? parseAddress(o.envoyAdminAddress, { file: 'command line', key: '--envoy-admin-address' }, diag) : result.config.envoyAdminAddress;
  if (!envoyAdmin) {
    printErrors(diag.errors);
    return 1;
  }
  const xds = { ...result.config.xdsAddress, host: o.xdsHost ?? result.config.xdsAddress.host };
  process.stdout.write(renderBootstrap(readBootstrapTemplate(), { nodeId: o.nodeId ?? DEFAULT_NODE_ID, xds, envoyAdmin, protocol: o.protocol }));
  return 0;
}
