import { readBootstrapTemplate, renderBootstrap } from '../runtime/bootstrap.js';
import { loadAndCompile, printErrors } from './load.js';

export const DEFAULT_NODE_ID = 'mtls-edge';

export function bootstrapCommand(configPath: string | undefined, nodeId: string | undefined, xdsHost: string | undefined): number {
  const result = loadAndCompile(configPath);
  if ('errors' in result) {
    printErrors(result.errors);
    return 1;
  }
  const xds = { ...result.config.xdsAddress, host: xdsHost ?? result.config.xdsAddress.host };
  process.stdout.write(renderBootstrap(readBootstrapTemplate(), { nodeId: nodeId ?? DEFAULT_NODE_ID, xds, envoyAdmin: result.config.envoyAdminAddress }));
  return 0;
}
