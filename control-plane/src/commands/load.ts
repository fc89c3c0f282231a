import { loadResourceRoot, ResourceCodec } from '../envoy-api/index.js';
import { formatError, loadConfigFile, type Config, type ConfigError } from '../config/index.js';
import { sortedErrors } from '../source/diagnostics.js';
import { compile, type Compiled } from '../pipeline.js';

/** Loads, validates and compiles a config; errors come back as values for the command to print. */
export function loadAndCompile(
  configPath: string | undefined,
): { config: Config; compiled: Compiled; codec: ResourceCodec } | { errors: ConfigError[] } {
  const loaded = loadConfigFile(configPath, process.env).result;
  if (!loaded.ok) return { errors: loaded.errors };
  const codec = new ResourceCodec(loadResourceRoot());
  const compiled = compile(loaded.value, codec);
  if (!compiled.ok) return { errors: compiled.errors };
  return { config: loaded.value, compiled: compiled.value, codec };
}

/** Every error, in reading order (by file and line), on stderr. */
export function printErrors(errors: ConfigError[]): void {
  const n = errors.length;
  process.stderr.write(
    `config has ${n} error${n === 1 ? '' : 's'}:\n` +
      sortedErrors(errors)
        .map((e) => `  ${formatError(e)}\n`)
        .join(''),
  );
}
