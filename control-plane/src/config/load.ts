import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Result } from './diagnostics.js';
import { resolveConfig } from './resolve.js';
import type { Config } from './types.js';

/** The file-system edge of the config stage: reads the YAML and the files it names. */
export function loadConfigFile(path: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): Result<Config> {
  const full = path === undefined ? undefined : resolve(cwd, path);
  let text: string | undefined;
  if (full !== undefined) {
    try {
      text = readFileSync(full, 'utf8');
    } catch (e) {
      return { ok: false, errors: [{ file: full, key: '(file)', message: `cannot read config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }] };
    }
  }
  return resolveConfig({
    yaml: full !== undefined && text !== undefined ? { text, file: full } : undefined,
    env,
    files: { configDir: full ? dirname(full) : cwd, cwd, readFile: (p) => readFileSync(p, 'utf8') },
  });
}
