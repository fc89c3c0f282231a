import { join, relative, resolve } from 'node:path';
import type { PlannedFile } from '../certs/files.js';

export interface CertsOptions {
  dir: string;
  force: boolean;
  password?: string;
  legacy: boolean;
  /** `certs envoy --fleet NAME`: one certificate for many Envoys. */
  fleet?: string;
  /** Print nothing on success (the demo says in one line what it made). */
  quiet?: boolean;
}

/** What a `certs` step prints, or why it wrote nothing. */
export type Out = { ok: true; lines: string[] } | { ok: false; error: string };

/** A path as the user should type it: relative to where they are. */
export const show = (o: CertsOptions, name: string) => relative(process.cwd(), resolve(o.dir, name)) || name;

export const file = (o: CertsOptions, name: string, contents: string | Buffer): PlannedFile => ({
  path: join(o.dir, name),
  contents,
  mode: 0o644,
});
export const secret = (o: CertsOptions, name: string, contents: string | Buffer): PlannedFile => ({
  path: join(o.dir, name),
  contents,
  mode: 0o600,
});
