import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Result } from '../source/diagnostics.js';
import { resolveConfig } from './resolve.js';
import type { Config } from './types.js';

export interface LoadedConfig {
  result: Result<Config>;
  /** Every file the config is made of: the YAML and each file it names, read or not (a missing one may appear). */
  files: string[];
}

/** The file-system edge of the config stage: reads the YAML and the files it names. */
export function loadConfigFile(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): LoadedConfig {
  const full = path === undefined ? undefined : resolve(cwd, path);
  const files = new Set<string>(full === undefined ? [] : [full]);
  let text: string | undefined;
  if (full !== undefined) {
    try {
      text = readFileSync(full, 'utf8');
    } catch (e) {
      const error = {
        file: full,
        key: '(file)',
        message: `cannot read config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      };
      return { result: { ok: false, errors: [error] }, files: [...files] };
    }
  }
  const result = resolveConfig({
    yaml: full !== undefined && text !== undefined ? { text, file: full } : undefined,
    env,
    files: {
      configDir: full ? dirname(full) : cwd,
      cwd,
      readFile: (p) => {
        files.add(p);
        return readFileSync(p, 'utf8');
      },
    },
  });
  return { result, files: [...files].sort() };
}
