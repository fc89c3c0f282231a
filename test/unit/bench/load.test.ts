import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  average,
  clockTicksPerSecond,
  cpuMicros,
  drive,
  drivePaced,
  parseProcStatCpuTicks,
  percentile,
  summarize,
  ticksToMicros,
} from '../../../control-plane/bench/load.js';

// A /proc/<pid>/stat line whose command name holds spaces and ")" (a process may name itself so): utime 1234, stime
// 566.
const STAT =
  '4242 (we) ird name) S 1 4242 4242 0 -1 4194560 5000 0 0 0 ' +
  '1234 566 7 8 20 0 3 0 12345 1000000 2500 18446744073709551615';

/** Keeps this thread busy for `ms` of wall time, so that it has used CPU time the reader must see. */
function burnCpu(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
}

describe('the /proc CPU reader', () => {
  test('adds utime and stime (fields 14 and 15), counting from the last ")" of the command name', () => {
    assert.equal(parseProcStatCpuTicks(STAT), 1800);
  });

  test('refuses a line that is not a stat line rather than reading NaN', () => {
    assert.throws(() => parseProcStatCpuTicks('not a stat line'), /not a \/proc/);
  });

  test('converts clock ticks at the given rate, not at an assumed 100 Hz', () => {
    assert.equal(ticksToMicros(1800, 100), 18_000_000);
    assert.equal(ticksToMicros(1800, 250), 7_200_000);
    assert.equal(ticksToMicros(1800, 1000), 1_800_000);
  });

  test("reads the kernel's tick rate from getconf", () => {
    assert.equal(clockTicksPerSecond(), Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })));
  });

  test('cpuMicros converts at the tick rate it is given', () => {
    // Same ticks read twice: at 50 Hz each tick is 20 ms, twice what it is at 100 Hz. Burn CPU first, so that
    // the difference is well above the ticks that pass between the two reads.
    burnCpu(150);
    const at50 = cpuMicros(process.pid, 50);
    const at100 = cpuMicros(process.pid, 100);
    assert.ok(at50 > 0);
    assert.ok(Math.abs(at50 - 2 * at100) <= 2 * 20_000, `${at50} µs at 50 Hz vs ${at100} µs at 100 Hz`);
  });

  test("agrees with Node's own CPU accounting for this process", () => {
    // Burn some user CPU so that the fields read matter (a reader of the wrong fields reads about 0).
    burnCpu(300);
    const usage = process.cpuUsage();
    const fromProc = cpuMicros(process.pid);
    const own = usage.user + usage.system;
    const tick = 1_000_000 / clockTicksPerSecond();
    // /proc counts whole ticks, and a little more time passes between the two reads.
    assert.ok(Math.abs(fromProc - own) <= 3 * tick + 50_000, `/proc says ${fromProc} µs, process.cpuUsage ${own} µs`);
  });
});

describe('rates and percentiles', () => {
  test('percentile is the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  test('summarize divides the completed requests by the measured time', () => {
    const r = summarize([5, 1, 3, 2, 4], 2, 2500, 'boom');
    assert.equal(r.rps, 2);
    assert.equal(r.requests, 5);
    assert.equal(r.errors, 2);
    assert.equal(r.p99, 5);
    assert.equal(r.firstError, 'boom');
  });

  test('average weighs two runs by their requests and time', () => {
    const r = average(summarize([1, 1, 1], 0, 1000), summarize([2], 1, 3000));
    assert.equal(r.rps, 1);
    assert.equal(r.requests, 4);
    assert.equal(r.errors, 1);
    assert.equal(r.elapsedMs, 4000);
  });

  test('drive times until the last request in flight has finished, not the nominal duration', async () => {
    // One request that outlasts the 20 ms run: the rate is 1 per ~150 ms, not 1 per 20 ms.
    const r = await drive(0.02, 1, () => new Promise((resolve) => setTimeout(resolve, 150)));
    assert.equal(r.requests, 1);
    assert.ok(r.elapsedMs >= 145, `elapsed ${r.elapsedMs} ms`);
    assert.ok(r.rps <= 1000 / 145, `rps ${r.rps}`);
  });

  test('drive counts failed requests apart from the rate and keeps the first error', async () => {
    let n = 0;
    const r = await drive(0.05, 2, async () => {
      n++;
      await new Promise((resolve) => setImmediate(resolve));
      if (n % 2 === 0) throw new Error(`failure ${n}`);
    });
    assert.ok(r.errors > 0);
    assert.equal(r.requests + r.errors, n);
    assert.match(r.firstError ?? '', /^failure \d+$/);
    assert.ok(Math.abs(r.rps - r.requests / (r.elapsedMs / 1000)) < 1e-9);
  });

  test('drivePaced holds the rate it is given, though its workers could go much faster', async () => {
    // Instant workers on 4 loops for 0.5 s at 200 per second: about 100 requests, and up to one per loop more,
    // due just after the end (the run then lasts that much longer: the rate holds).
    const r = await drivePaced(0.5, 4, 200, () => Promise.resolve());
    assert.ok(r.requests >= 95 && r.requests <= 106, `${r.requests} requests`);
    assert.ok(Math.abs(r.rps - 200) < 15, `${r.rps} per second`);
  });

  test('drivePaced keeps one schedule for all its loops: a loop busy between requests does not slow it', async () => {
    // 3 ms workers on 4 loops at 200 per second: a request every 5 ms overall, 100 in the half second. Loops pacing
    // themselves (each every 20 ms after its last ended) would send about 87. The count, not the rate: on a busy
    // machine late timers stretch the elapsed time, but the requests due are sent all the same.
    const r = await drivePaced(0.5, 4, 200, () => new Promise((resolve) => setTimeout(resolve, 3)));
    assert.ok(r.requests >= 94 && r.requests <= 106, `${r.requests} requests (${r.rps} per second)`);
  });

  test('drivePaced catches up at once after a stall, so that the rate over the run holds', async () => {
    // The event loop blocked for 100 ms at the first request: the 20 requests due meanwhile go out right after.
    let first = true;
    const r = await drivePaced(0.5, 4, 200, () => {
      if (first) burnCpu(100);
      first = false;
      return Promise.resolve();
    });
    assert.ok(r.requests >= 95 && r.requests <= 106, `${r.requests} requests`);
  });
});
