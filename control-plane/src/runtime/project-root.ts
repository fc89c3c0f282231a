import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder this build belongs to: the nearest one above this module that holds envoy/VERSION (a clone, whose
 * build is in dist/, or the image's /app). The CLI finds its files there from any working directory.
 */
export function projectRoot(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'envoy', 'VERSION'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** mtls-edge's version (package.json) and the Envoy release it is built for (envoy/VERSION). */
export function versions(root = projectRoot()): { mtlsEdge: string; envoy: string } | undefined {
  if (root === undefined) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    const envoy = readFileSync(join(root, 'envoy', 'VERSION'), 'utf8').trim();
    return typeof pkg.version === 'string' ? { mtlsEdge: pkg.version, envoy } : undefined;
  } catch {
    return undefined;
  }
}
