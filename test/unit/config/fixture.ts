// Shared by the config tests: real PEMs, an in-memory file system and small assertions.
// Not a *.test.ts file, so `node --test` does not run it on its own.
import assert from 'node:assert/strict';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../../../control-plane/src/pki/index.js';
import {
  formatError,
  resolveConfig,
  type Config,
  type ConfigError,
  type ConfigInput,
  type Result,
} from '../../../control-plane/src/config/index.js';

export const CONFIG_DIR = '/etc/edge';
export const CONFIG_FILE = '/etc/edge/config.yaml';
export const CWD = '/srv/run';

export interface Pems {
  ca: string;
  /** A second, unrelated CA: a different fingerprint from `ca`. */
  caB: string;
  /** Leaf only, so that "the certificate in certificate_file" is unambiguous. */
  serverCert: string;
  serverKey: string;
  /** A valid key that belongs to no certificate here: the mismatch case. */
  otherKey: string;
  /** A leaf (CA:FALSE), for "a non-CA given as CA". */
  clientCert: string;
}

let pending: Promise<Pems> | undefined;

/** Generated once per test process; call it from `before()`. */
export function loadPems(): Promise<Pems> {
  pending ??= (async () => {
    const ca = await createRootCa({ commonName: 'Config Test CA' });
    const caB = await createRootCa({ commonName: 'Config Test CA B' });
    const server = await issueServerCertificate(ca, { dnsNames: ['a.example.com', '*.apps.example.com'] });
    const other = await issueServerCertificate(caB, { dnsNames: ['other.example.com'] });
    const client = await issueClientCertificate(ca, { commonName: 'alice' });
    return {
      ca: ca.certPem,
      caB: caB.certPem,
      serverCert: server.certPem,
      serverKey: server.keyPem,
      otherKey: other.keyPem,
      clientCert: client.certPem,
    };
  })();
  return pending;
}

/** The usual files of a config directory, keyed by absolute path. */
export function standardFiles(p: Pems): Record<string, string> {
  return {
    [`${CONFIG_DIR}/server.pem`]: p.serverCert,
    [`${CONFIG_DIR}/server-key.pem`]: p.serverKey,
    [`${CONFIG_DIR}/other-key.pem`]: p.otherKey,
    [`${CONFIG_DIR}/ca.pem`]: p.ca,
    [`${CONFIG_DIR}/ca-b.pem`]: p.caB,
    [`${CONFIG_DIR}/client.pem`]: p.clientCert,
    [`${CONFIG_DIR}/garbage.pem`]: 'this is not a PEM file\n',
  };
}

export class MemoryFiles {
  readonly contents: Map<string, string>;
  /** Every path asked for, in order, so tests can tell which file a relative path became. */
  readonly reads: string[] = [];
  readonly configDir: string;
  readonly cwd: string;

  constructor(contents: Record<string, string>, dirs: { configDir?: string; cwd?: string } = {}) {
    this.contents = new Map(Object.entries(contents));
    this.configDir = dirs.configDir ?? CONFIG_DIR;
    this.cwd = dirs.cwd ?? CWD;
  }

  readonly readFile = (path: string): string => {
    this.reads.push(path);
    const text = this.contents.get(path);
    if (text === undefined) {
      const e = new Error(`ENOENT: no such file or directory, open '${path}'`) as NodeJS.ErrnoException;
      e.code = 'ENOENT';
      throw e;
    }
    return text;
  };
}

type FileAccess = ConfigInput['files'];

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** File contents by absolute path, or any FileAccess (for readers that fail in other ways). */
  files?: FileAccess | Record<string, string>;
  /** Defaults to CONFIG_FILE; the YAML is omitted entirely when `yaml` is undefined. */
  file?: string;
}

export function run(yaml: string | undefined, opts: RunOptions = {}): Result<Config> {
  const given = opts.files ?? {};
  const files: FileAccess =
    typeof given.readFile === 'function' ? (given as FileAccess) : new MemoryFiles(given as Record<string, string>);
  const input: ConfigInput = {
    yaml: yaml === undefined ? undefined : { text: yaml, file: opts.file ?? CONFIG_FILE },
    env: opts.env ?? {},
    files,
  };
  return resolveConfig(input);
}

export function expectOk(r: Result<Config>): Config {
  if (!r.ok) assert.fail(`expected a valid config, got:\n${r.errors.map(formatError).join('\n')}`);
  return r.value;
}

export function expectErrors(r: Result<Config>): ConfigError[] {
  if (r.ok) assert.fail('expected errors, but the config was accepted');
  assert.ok(r.errors.length > 0, 'a failed result must carry at least one error');
  return r.errors;
}

/** The single error reported for `key`; fails, listing every error, when there is none or several. */
export function errorFor(errors: ConfigError[], key: string): ConfigError {
  const found = errors.filter((e) => e.key === key);
  if (found.length !== 1) {
    assert.fail(`expected exactly one error for ${key}, got ${found.length}:\n${errors.map(formatError).join('\n')}`);
  }
  return found[0]!;
}

/** Asserts one error at `key` with this file, line and message, and returns it. */
export function assertError(
  errors: ConfigError[],
  expected: { key: string; line: number | undefined; message: RegExp; file?: string },
): ConfigError {
  const e = errorFor(errors, expected.key);
  assert.equal(e.file, expected.file ?? CONFIG_FILE, `file of ${expected.key}`);
  assert.equal(e.line, expected.line, `line of ${expected.key}`);
  assert.match(e.message, expected.message);
  return e;
}

/**
 * Template tag for YAML: drops the first newline and the common indentation, so the
 * first line written is line 1 and line numbers in assertions can be read off the test.
 * Only single-line values may be interpolated.
 */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text
    .replace(/^\n/, '')
    .replace(/\n[ \t]*$/, '')
    .split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n') + '\n';
}

/** The two lines every valid config needs; tests that count lines start theirs at line 3. */
export const SERVER_CERT_LINES = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n';

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Indents a multi-line value for a YAML block scalar (`key: |`). */
export function indentBlock(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return (
    text
      .trimEnd()
      .split('\n')
      .map((l) => pad + l)
      .join('\n') + '\n'
  );
}
