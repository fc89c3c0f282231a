import { isAbsolute, resolve } from 'node:path';
import type { Diagnostics, Location } from '../source/diagnostics.js';
import { ENV_SOURCE_PREFIX } from './env.js';
import { readString, type MapValue } from '../source/fields.js';
import { certificatesToPem, decodeInlinePem, fingerprint, parseCertificates } from '../certificates/index.js';
import type { CertificateBundle } from './types.js';

/** The only I/O the config stage needs, passed in so that validation stays testable in memory. */
export interface FileAccess {
  /** Folder of the YAML file: relative paths in it resolve here. */
  configDir: string;
  /** Relative paths from environment variables resolve here. */
  cwd: string;
  readFile(path: string): string;
}

/** One config names the same CA file on many routes: read each path once per load. */
export function withReadCache(files: FileAccess): FileAccess {
  const cache = new Map<string, { text: string } | { error: unknown }>();
  return {
    ...files,
    readFile(path) {
      let entry = cache.get(path);
      if (!entry) {
        try {
          entry = { text: files.readFile(path) };
        } catch (error) {
          entry = { error };
        }
        cache.set(path, entry);
      }
      if ('error' in entry) throw entry.error;
      return entry.text;
    },
  };
}

export interface PemInput {
  text: string;
  /** For messages: `client_ca_file (/etc/ca.pem)` or `client_ca`. */
  origin: string;
  at: Location;
  /** The path as written, when it was read from a file. */
  file?: string;
}

/**
 * Reads a PEM given either inline as base64 (`key`) or as a file (`fileKey`).
 * Both at once is an error, as in Pomerium.
 */
export function readInlineOrFile(
  map: MapValue,
  key: string,
  fileKey: string,
  files: FileAccess,
  diag: Diagnostics,
): PemInput | undefined {
  const inline = readString(map, key, diag);
  const file = readString(map, fileKey, diag);
  if (inline && file) {
    diag.error(file.at, `set either ${key} or ${fileKey}, not both (${key} is set at ${describe(inline.at)})`);
    return undefined;
  }
  // The full key path (`routes[3].tls_downstream_client_ca`) tells two inline CAs apart.
  if (inline) return { text: decodeInlinePem(inline.value), origin: inline.at.key, at: inline.at };
  if (file) {
    const text = readReferencedFile(file.value, file.at, files, diag);
    return text === undefined
      ? undefined
      : { text, origin: `${fileKey} (${file.value})`, at: file.at, file: file.value };
  }
  return undefined;
}

export function readReferencedFile(
  path: string,
  at: Location,
  files: FileAccess,
  diag: Diagnostics,
): string | undefined {
  const full = resolvePath(path, at, files);
  try {
    return files.readFile(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    diag.error(at, `cannot read file "${full}": ${code ?? (e as Error).message}`);
    return undefined;
  }
}

function resolvePath(path: string, at: Location, files: FileAccess): string {
  if (isAbsolute(path)) return path;
  // Values parsed from ROUTES / CERTIFICATES have lines (within the variable) but still come from the environment.
  // (Not `at.line`: reading it computes line numbers, which a valid config never needs.)
  const fromEnvironment = at.file.startsWith(ENV_SOURCE_PREFIX);
  return resolve(fromEnvironment ? files.cwd : files.configDir, path);
}

export function toCertificateBundle(input: PemInput, diag: Diagnostics): CertificateBundle | undefined {
  // A thousand routes may name one CA file: parse it once, and let them share the bundle (and what the model
  // derives from it). Only a bundle without problems is kept: each route reports its own.
  const key = `${input.origin}\0${input.text}`;
  const known = bundles.get(key);
  if (known) return known;
  const before = diag.errors.length;
  const bundle = parseBundle(input, diag);
  if (bundle && diag.errors.length === before) {
    if (bundles.size >= MAX_KEPT_BUNDLES) bundles.delete(bundles.keys().next().value!); // the oldest
    bundles.set(key, bundle);
  }
  return bundle;
}

const bundles = new Map<string, CertificateBundle>();
// Bounded: an edited CA file adds an entry per reload, and a bundle holds its whole PEM text.
const MAX_KEPT_BUNDLES = 64;

function parseBundle(input: PemInput, diag: Diagnostics): CertificateBundle | undefined {
  const parsed = parseCertificates(input.text);
  if ('error' in parsed) {
    diag.error(input.at, `${input.origin}: ${parsed.error}`);
    return undefined;
  }
  for (const cert of parsed.certs) {
    if (!cert.ca)
      diag.error(
        input.at,
        `${input.origin}: certificate "${cert.subject.replace(/\n/g, ', ')}" is not a CA (basicConstraints CA:TRUE is missing)`,
      );
  }
  return Object.freeze({
    pem: certificatesToPem(parsed.certs),
    fingerprints: Object.freeze(parsed.certs.map(fingerprint).sort()),
    origin: input.origin,
  });
}

function describe(at: Location): string {
  return at.line === undefined ? at.file : `${at.file}:${at.line}`;
}
