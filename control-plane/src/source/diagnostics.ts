/** Where a value came from: a file and line, or an environment variable (no line). */
export interface Location {
  file: string;
  line?: number;
  /** Dotted option path, e.g. `routes[2].tls_downstream_client_ca_file`, or the variable name. */
  key: string;
}

export interface ConfigError extends Location {
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: ConfigError[] };

export function formatError(e: ConfigError): string {
  const where = e.line === undefined ? e.file : `${e.file}:${e.line}`;
  return `${where}: ${e.key}: ${e.message}`;
}

/** An error at a location (a YAML location's line is a getter, which a spread would not copy). */
export function errorAt(at: Location, message: string): ConfigError {
  return { file: at.file, line: at.line, key: at.key, message };
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
