import type { ConfigError } from '../source/diagnostics.js';
import { parseYamlSource, type SourceValue } from '../source/source.js';

/** How a value from the environment names its source in `Location.file`. */
export const ENV_SOURCE_PREFIX = 'environment variable ';

/**
 * Environment variables override the file, as in Pomerium: the variable is the
 * option's name in upper case (`CLIENT_CA_FILE` for `client_ca_file`).
 * Structured options (`routes`, `certificates`) take YAML or JSON, plain or base64.
 * `plain` options take YAML or JSON but never base64: their values are short words (JWT_CLAIMS_HEADERS=user),
 * which the base64 test would take for base64.
 */
export function overlayEnvironment(
  root: Extract<SourceValue, { kind: 'map' }>,
  env: Readonly<Record<string, string | undefined>>,
  options: {
    scalar: readonly string[];
    structured: readonly string[];
    plain?: readonly string[];
    nested?: Readonly<Record<string, readonly string[]>>;
  },
): { value: Extract<SourceValue, { kind: 'map' }>; errors: ConfigError[] } {
  const entries = new Map(root.entries);
  const errors: ConfigError[] = [];
  for (const key of options.scalar) {
    const name = key.toUpperCase();
    const text = env[name];
    if (text === undefined || text === '') continue;
    entries.set(key, { kind: 'scalar', value: text, at: { file: `${ENV_SOURCE_PREFIX}${name}`, key }, fromEnv: true });
  }
  const plain = new Set(options.plain ?? []);
  for (const key of [...options.structured, ...plain]) {
    const name = key.toUpperCase();
    const text = env[name];
    if (text === undefined || text === '') continue;
    const decoded = !plain.has(key) && looksLikeBase64(text) ? Buffer.from(text, 'base64').toString('utf8') : text;
    const parsed = parseYamlSource(decoded, `${ENV_SOURCE_PREFIX}${name}`, key);
    errors.push(...parsed.errors);
    if (parsed.value) entries.set(key, parsed.value);
  }
  // Keys inside a block: DOWNSTREAM_MTLS_CA_FILE sets downstream_mtls.ca_file.
  for (const [block, keys] of Object.entries(options.nested ?? {})) {
    for (const key of keys) {
      const name = `${block}_${key}`.toUpperCase();
      const text = env[name];
      if (text === undefined || text === '') continue;
      const existing = entries.get(block);
      const inner = existing?.kind === 'map' ? new Map(existing.entries) : new Map<string, SourceValue>();
      inner.set(key, {
        kind: 'scalar',
        value: text,
        at: { file: `${ENV_SOURCE_PREFIX}${name}`, key: `${block}.${key}` },
        fromEnv: true,
      });
      entries.set(block, {
        kind: 'map',
        entries: inner,
        at: existing?.at ?? { file: `${ENV_SOURCE_PREFIX}${name}`, key: block },
      });
    }
  }
  return { value: { ...root, entries }, errors };
}

function looksLikeBase64(text: string): boolean {
  // `base64` wraps at 76 columns; the line breaks are not part of the length.
  return /^[A-Za-z0-9+/=\s]+$/.test(text) && !/[:\-[{]/.test(text) && text.replace(/\s/g, '').length % 4 === 0;
}
