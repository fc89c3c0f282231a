import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  envoyHome,
  isAlive,
  lockHome,
  processStartTime,
  readRecord,
  survivingEnvoy,
  unlockHome,
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
    const record = { envoyPid: 4242, envoyStart: '77', bootstrapPath: '/x/bootstrap.yaml', startedAt: 'now' };
    writeRecord(home.dir, record);
    assert.deepEqual(readRecord(home.dir), record);
    writeRecord(home.dir, { ...record, envoyPid: 1 });
    assert.equal(readRecord(home.dir), undefined, 'pid 1 is never ours');
  });

  it('an Envoy survives only as the same process (pid, start time) running envoy on its bootstrap', async () => {
    // A stand-in whose command line reads as Envoy's: argv[0] "envoy", the bootstrap among its arguments.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '/x/bootstrap.yaml'], {
      stdio: 'ignore',
      argv0: 'envoy',
    });
    await new Promise((r) => child.once('spawn', r));
    try {
      const pid = child.pid!;
      const record = {
        envoyPid: pid,
        envoyStart: processStartTime(pid),
        bootstrapPath: '/x/bootstrap.yaml',
        startedAt: '',
      };
      assert.equal(survivingEnvoy(record), true);
      assert.equal(survivingEnvoy({ ...record, bootstrapPath: '/y/bootstrap.yaml' }), false, 'another bootstrap');
      assert.equal(survivingEnvoy({ ...record, envoyStart: '1' }), false, 'the pid given to another process since');
      const notEnvoy = { ...record, envoyPid: process.pid, envoyStart: processStartTime(process.pid) };
      assert.equal(survivingEnvoy(notEnvoy), false, 'this test is no Envoy');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    assert.equal(isAlive(child.pid!), false, 'gone once it exited');
  });

  it("a live run's lock is never taken: a second run is refused; a dead run's lock is taken over", async () => {
    const base = mkdtempSync(join(tmpdir(), 'home-'));
    const home = envoyHome(admin, base);
    assert.ok('dir' in home);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => other.once('spawn', r));
    try {
      const lock = join(home.dir, 'run.lock');
      writeFileSync(lock, JSON.stringify({ pid: other.pid, start: processStartTime(other.pid!) }));
      const refused = lockHome(home.dir);
      assert.ok('holder' in refused && refused.holder === other.pid, JSON.stringify(refused));
      // The same pid with another start time is another process: the run that held the lock is gone.
      writeFileSync(lock, JSON.stringify({ pid: other.pid, start: '1' }));
      assert.deepEqual(lockHome(home.dir), { ok: true });
      assert.deepEqual(lockHome(home.dir), { ok: true }, 'this run holds it already');
      unlockHome(home.dir);
      assert.deepEqual(lockHome(home.dir), { ok: true }, 'free again');
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
  });
});
