/** Where a value came from: a file and line, or an environment variable (no line). */
export interface Location {
  file: string;
  line?: number;
  /** 1-based, where the parser knows it (the key's first character). */
  column?: number;
  /** Dotted option path, e.g. `routes[2].tls_downstream_client_ca_file`, or the variable name. */
  key: string;
}

export interface ConfigError extends Location {
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: ConfigError[] };

export function formatError(e: ConfigError): string {
  const where =
    e.line === undefined ? e.file : e.column === undefined ? `${e.file}:${e.line}` : `${e.file}:${e.line}:${e.column}`;
  return `${where}: ${e.key}: ${e.message}`;
}

/** An error at a location (a YAML location's line is a getter, which a spread would not copy). */
export function errorAt(at: Location, message: string): ConfigError {
  const column = at.column;
  return { file: at.file, line: at.line, ...(column === undefined ? {} : { column }), key: at.key, message };
}

/** Errors in reading order: by file, then line and column (those without a line first); otherwise as found. */
export function sortedErrors(errors: readonly ConfigError[]): ConfigError[] {
  const position = (n: number | undefined) => n ?? 0;
  return [...errors].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      position(a.line) - position(b.line) ||
      position(a.column) - position(b.column),
  );
}

/** Collects every error of a pass so that a user sees them all at once, not one per run. */
export class Diagnostics {
  readonly errors: ConfigError[] = [];

  error(at: Location, message: string): void {
    this.errors.push(errorAt(at, message));
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }
}
