import { configVariablesSet } from '../config/index.js';
import { UsageError } from './spec.js';

/**
 * The config a command reads: --config, else MTLS_EDGE_CONFIG, else the options' own environment variables (as in
 * Pomerium). With none of them there is nothing to read: say so, rather than list what an empty config lacks.
 */
export function configPathFor(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const path = flag ?? env['MTLS_EDGE_CONFIG'];
  if (path !== undefined && path !== '') return path;
  if (configVariablesSet(env).length > 0) return undefined;
  throw new UsageError(
    `a config is needed: --config FILE (or MTLS_EDGE_CONFIG=FILE, or the options as environment variables, ` +
      'e.g. CERTIFICATE_FILE and ROUTES)',
  );
}
