import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface PlannedFile {
  path: string;
  contents: string | Buffer;
  /** 0600 for private keys and PKCS#12 files. */
  mode: number;
}

/**
 * Writes every file or none: refuses (before writing anything) to overwrite a file unless `force`, then
 * writes each to a temporary name and renames them into place only once all are written.
 */
export function writeAllOrNothing(files: PlannedFile[], force: boolean): { error?: string } {
  const existing = files.filter((f) => existsSync(f.path)).map((f) => f.path);
  if (existing.length > 0 && !force)
    return { error: `would overwrite ${existing.join(', ')} (use --force to replace)` };
  const temporary: string[] = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.path), { recursive: true });
      // A fresh random name, created exclusively ('wx' fails on an existing file or symlink), so that nobody
      // who can write to the folder can make us write a key into their file, or with their permissions.
      const tmp = `${f.path}.${randomBytes(8).toString('hex')}.tmp`;
      temporary.push(tmp);
      writeFileSync(tmp, f.contents, { mode: f.mode, flag: 'wx' });
    }
    files.forEach((f, i) => renameSync(temporary[i]!, f.path));
    return {};
  } catch (e) {
    for (const tmp of temporary) rmSync(tmp, { force: true });
    return { error: (e as Error).message };
  }
}
