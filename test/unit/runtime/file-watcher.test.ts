import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FileWatcher } from '../../../control-plane/src/runtime/file-watcher.js';
import { CallLog, folderWitness } from '../../support/watch-probe.js';

const DEBOUNCE_MS = 50;
/** The witness waits for three debounce periods of silence: the watcher's last timer has fired by then. */
const QUIET_MS = DEBOUNCE_MS * 3;

describe('FileWatcher', () => {
  const open: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  /** Watches `files` with a CallLog, and a witness on their folders (and `moreDirs`) to show when all is quiet. */
  function watching(files: string[], moreDirs: string[] = []) {
    const calls = new CallLog();
    const witness = folderWitness([...new Set([...files.map((f) => dirname(f)), ...moreDirs])], QUIET_MS);
    const watcher = new FileWatcher(calls.record, DEBOUNCE_MS);
    open.push(witness, watcher);
    watcher.setFiles(files);
    /** After the events of one change: exactly `n` calls in all, and no more to come. */
    const expectCalls = async (n: number, what: string) => {
      if (n > 0) await calls.waitForCall(n, what);
      await witness.quiet(what);
      assert.equal(calls.count, n, `${what}: calls once the folder is quiet`);
    };
    return { watcher, calls, expectCalls };
  }

  it('sees an in-place write, with one call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'config.yaml'), 'a: 1\n');
    const w = watching([join(dir, 'config.yaml')]);
    writeFileSync(join(dir, 'config.yaml'), 'a: 2\n');
    await w.expectCalls(1, 'in-place write');
  });

  it("sees an editor's atomic save (temp file renamed over the original), and keeps seeing later saves", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'config.yaml'), 'a: 1\n');
    const w = watching([join(dir, 'config.yaml')]);
    for (const n of [1, 2]) {
      writeFileSync(join(dir, '.config.yaml.swp'), `a: ${n}\n`);
      renameSync(join(dir, '.config.yaml.swp'), join(dir, 'config.yaml'));
      await w.expectCalls(n, `save ${n}`);
    }
  });

  it('sees a file deleted and created again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'ca.pem'), 'x');
    const w = watching([join(dir, 'ca.pem')]);
    rmSync(join(dir, 'ca.pem'));
    await w.expectCalls(1, 'deleted');
    writeFileSync(join(dir, 'ca.pem'), 'y');
    await w.expectCalls(2, 'created again');
  });

  it('sees a Kubernetes ConfigMap update (the ..data symlink swapped to a new folder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    mkdirSync(join(dir, '..2026_01'));
    writeFileSync(join(dir, '..2026_01', 'config.yaml'), 'a: 1\n');
    symlinkSync('..2026_01', join(dir, '..data'));
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
    const w = watching([join(dir, 'config.yaml')]);
    // What the kubelet does: write a new folder, point a temporary link at it, rename it over ..data.
    // No event names config.yaml itself: only the `..` entries show the change.
    mkdirSync(join(dir, '..2026_02'));
    writeFileSync(join(dir, '..2026_02', 'config.yaml'), 'a: 2\n');
    symlinkSync('..2026_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2026_01'), { recursive: true });
    await w.expectCalls(1, 'ConfigMap update');
  });

  it('turns a burst of changes into one call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    const files = ['config.yaml', 'server.pem', 'server-key.pem'].map((f) => join(dir, f));
    for (const f of files) writeFileSync(f, '0');
    const w = watching(files);
    for (let i = 0; i < 10; i++) for (const f of files) writeFileSync(f, String(i));
    await w.expectCalls(1, 'burst');
  });

  it('ignores other files in the same folder, and follows a new file set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    const other = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'config.yaml'), '');
    const w = watching([join(dir, 'config.yaml')], [other]);
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    await w.expectCalls(0, 'unrelated file');
    writeFileSync(join(other, 'ca.pem'), 'x');
    await w.expectCalls(0, 'a file in a folder not watched yet');
    w.watcher.setFiles([join(dir, 'config.yaml'), join(other, 'ca.pem')]);
    writeFileSync(join(other, 'ca.pem'), 'y');
    await w.expectCalls(1, 'a file of the new set');
  });

  it('after close, no call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'config.yaml'), 'a: 1\n');
    const w = watching([join(dir, 'config.yaml')]);
    w.watcher.close();
    writeFileSync(join(dir, 'config.yaml'), 'a: 2\n');
    await w.expectCalls(0, 'write after close');
  });
});
