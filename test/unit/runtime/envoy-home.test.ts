import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  envoyHome,
  isAlive,
  isLiveRun,
  readRecord,
  survivingEnvoy,
  writeRecord,
} from '../../../control-plane/src/runtime/envoy-home.js';

const admin = { host: '127.0.0.1', port: 9901 };
const uid = process.getuid?.() ?? 0;

describe("run's Envoy folder", () => {
  it('is made private (0700) and found again at the same path for the same admin address', () => {
    const base = mkdtempSync(join(tmpdir(), 'home-'));
    const first = envoyHome(admin, base);
    assert.ok('dir' in first);
    assert.equal(first.dir, join(base, `mtls-edge-${uid}`, 'envoy-127.0.0.1-9901'));
    const again = envoyHome(admin, base);
    assert.deepEqual(again, first);
    assert.notDeepEqual(envoyHome({ host: '127.0.0.1', port: 9911 }, base), first, 'another admin port, another');
  });

  it('a folder open to others, or a link planted in its place, is refused, never used', () => {
    const open = mkdtempSync(join(tmpdir(), 'home-'));
    mkdirSync(join(open, `mtls-edge-${uid}`), { mode: 0o755 });
    chmodSync(join(open, `mtls-edge-${uid}`), 0o755);
    const refused = envoyHome(admin, open);
    assert.ok('error' in refused && /not a private folder of this user/.test(refused.error), JSON.stringify(refused));

    const planted = mkdtempSync(join(tmpdir(), 'home-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'elsewhere-'));
    symlinkSync(elsewhere, join(planted, `mtls-edge-${uid}`));
    const link = envoyHome(admin, planted);
    assert.ok('error' in link && /a link, another owner, or open to others/.test(link.error), JSON.stringify(link));
  });

  it('a record is read back; a malformed one is no record', () => {
    const base = mkdtempSync(join(tmpdir(), 'home-'));
    const home = envoyHome(admin, base);
    assert.ok('dir' in home);
    assert.equal(readRecord(home.dir), undefined);
    const record = { envoyPid: 4242, runPid: 4343, bootstrapPath: '/x/bootstrap.yaml', startedAt: 'now' };
    writeRecord(home.dir, record);
    assert.deepEqual(readRecord(home.dir), record);
    writeRecord(home.dir, { ...record, envoyPid: 1 });
    assert.equal(readRecord(home.dir), undefined, 'pid 1 is never ours');
  });

  it('an Envoy survives only if its pid lives and runs the recorded bootstrap (a reused pid is not ours)', async () => {
    const child = spawn('sleep', ['30', '/x/bootstrap.yaml'], { stdio: 'ignore' });
    try {
      const record = { envoyPid: child.pid!, runPid: process.pid, bootstrapPath: '/x/bootstrap.yaml', startedAt: '' };
      assert.equal(survivingEnvoy(record), true);
      assert.equal(survivingEnvoy({ ...record, bootstrapPath: '/y/bootstrap.yaml' }), false, 'another program');
      assert.equal(survivingEnvoy({ ...record, envoyPid: process.pid }), false, 'this test is no Envoy');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    assert.equal(isAlive(child.pid!), false, 'gone once it exited');
  });

  it('a live process that is not `mtls-edge run` (a reused pid) holds no Envoy', () => {
    assert.equal(isLiveRun(process.pid), false, 'the test runner is not `mtls-edge run`');
    assert.equal(isAlive(process.pid), true);
  });
});
