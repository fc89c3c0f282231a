import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` once after a burst of changes to any of the given files. It watches their folders,
 * not the files, so that it also sees an editor's atomic save (write a temporary file, rename it over),
 * a file deleted and created again, and a Kubernetes ConfigMap/Secret update (the `..data` symlink
 * swapped for a new folder), none of which a watch on the old file would report.
 */
export class FileWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private names = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly onChange: () => void,
    private readonly debounceMs = 100,
    private readonly onError: (dir: string, error: Error) => void = () => {},
  ) {}

  /** Replaces the watched set (the files a config names change with the config). */
  setFiles(files: readonly string[]): void {
    // A reload that was under way when the process began to stop must not watch folders again.
    if (this.closed) return;
    const names = new Map<string, Set<string>>();
    for (const file of files) {
      const dir = dirname(file);
      names.set(dir, (names.get(dir) ?? new Set()).add(basename(file)));
    }
    this.names = names;
    for (const [dir, w] of this.watchers) {
      if (!names.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of names.keys()) if (!this.watchers.has(dir)) this.watchDir(dir);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private watchDir(dir: string): void {
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        const name = filename?.toString();
        // No name (some platforms), a watched file, or Kubernetes' `..data` / `..2024_…` entries.
        if (!name || this.names.get(dir)?.has(name) || name.startsWith('..')) this.schedule();
      });
      w.on('error', (e) => this.onError(dir, e));
      this.watchers.set(dir, w);
    } catch (e) {
      // A folder that does not exist (yet): the config error already says which file is missing.
      this.onError(dir, e as Error);
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onChange(), this.debounceMs);
  }
}
