import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FileWatcher } from '../../../control-plane/src/runtime/file-watcher.js';

const DEBOUNCE_MS = 50;
const settle = () => new Promise((r) => setTimeout(r, DEBOUNCE_MS * 4));

describe('FileWatcher', () => {
  let watcher: FileWatcher | undefined;
  afterEach(() => watcher?.close());

  function watching(files: string[]): { calls: () => number } {
    let calls = 0;
    watcher = new FileWatcher(() => calls++, DEBOUNCE_MS);
    watcher.setFiles(files);
    return { calls: () => calls };
  }

  it('sees an in-place write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'config.yaml'), 'a: 1\n');
    const w = watching([join(dir, 'config.yaml')]);
    writeFileSync(join(dir, 'config.yaml'), 'a: 2\n');
    await settle();
    assert.equal(w.calls(), 1);
  });

  it("sees an editor's atomic save (temp file renamed over the original), and keeps seeing later saves", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'config.yaml'), 'a: 1\n');
    const w = watching([join(dir, 'config.yaml')]);
    for (const n of [2, 3]) {
      writeFileSync(join(dir, '.config.yaml.swp'), `a: ${n}\n`);
      renameSync(join(dir, '.config.yaml.swp'), join(dir, 'config.yaml'));
      await settle();
    }
    assert.equal(w.calls(), 2);
  });

  it('sees a file deleted and created again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'ca.pem'), 'x');
    const w = watching([join(dir, 'ca.pem')]);
    rmSync(join(dir, 'ca.pem'));
    await settle();
    writeFileSync(join(dir, 'ca.pem'), 'y');
    await settle();
    assert.equal(w.calls(), 2);
  });

  it('sees a Kubernetes ConfigMap update (the ..data symlink swapped to a new folder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    mkdirSync(join(dir, '..2026_01'));
    writeFileSync(join(dir, '..2026_01', 'config.yaml'), 'a: 1\n');
    symlinkSync('..2026_01', join(dir, '..data'));
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
    const w = watching([join(dir, 'config.yaml')]);
    // What the kubelet does: write a new folder, point a temporary link at it, rename it over ..data.
    mkdirSync(join(dir, '..2026_02'));
    writeFileSync(join(dir, '..2026_02', 'config.yaml'), 'a: 2\n');
    symlinkSync('..2026_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2026_01'), { recursive: true });
    await settle();
    assert.equal(w.calls(), 1);
  });

  it('turns a burst of changes into one call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    const files = ['config.yaml', 'server.pem', 'server-key.pem'].map((f) => join(dir, f));
    for (const f of files) writeFileSync(f, '0');
    const w = watching(files);
    for (let i = 0; i < 10; i++) for (const f of files) writeFileSync(f, String(i));
    await settle();
    assert.equal(w.calls(), 1);
  });

  it('ignores other files in the same folder, and follows a new file set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'));
    const other = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(dir, 'config.yaml'), '');
    const w = watching([join(dir, 'config.yaml')]);
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    await settle();
    assert.equal(w.calls(), 0);
    watcher!.setFiles([join(dir, 'config.yaml'), join(other, 'ca.pem')]);
    writeFileSync(join(other, 'ca.pem'), 'x');
    await settle();
    assert.equal(w.calls(), 1);
  });
});
