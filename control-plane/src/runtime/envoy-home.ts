// Where `run` keeps what its Envoy needs (the private xDS socket, the bootstrap) and a record of who runs it, in
// a folder named after the Envoy's admin address: the one thing two Envoys on a machine cannot share. When `run`
// dies without stopping its Envoy (SIGKILL, an OOM kill), the Envoy keeps serving; the next `run` with the same
// admin address finds the record and adopts that Envoy instead of failing on its ports.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SocketAddress } from '../config/index.js';

export interface EnvoyRecord {
  envoyPid: number;
  /** When that process started (/proc): a pid the system gave to another program since does not match. */
  envoyStart?: string;
  bootstrapPath: string;
  startedAt: string;
}

const RECORD = 'envoy.json';
/** Held by the `run` serving this folder's Envoy: its pid and start time. */
const LOCK = 'run.lock';

/**
 * The folder for the Envoy with this admin address: `$TMPDIR/mtls-edge-<uid>/envoy-<host>-<port>`, both levels
 * 0700 and ours. A folder someone else made there (to catch the socket, say) is refused, never used.
 */
export function envoyHome(admin: SocketAddress, base = tmpdir()): { dir: string } | { error: string } {
  const uid = process.getuid?.() ?? 0;
  const parent = join(base, `mtls-edge-${uid}`);
  const dir = join(parent, `envoy-${admin.host.replace(/[^0-9A-Za-z.-]/g, '_')}-${admin.port}`);
  for (const d of [parent, dir]) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return { error: `cannot create ${d}: ${String(e)}` };
    }
    const st = lstatSync(d);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0)
      return {
        error:
          `${d} is not a private folder of this user (a link, another owner, or open to others): ` +
          `remove it, or set TMPDIR to a folder of your own`,
      };
  }
  return { dir };
}

export function readRecord(dir: string): EnvoyRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, RECORD), 'utf8')) as Partial<EnvoyRecord>;
    const pid = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 1;
    if (!pid(r.envoyPid) || typeof r.bootstrapPath !== 'string') return undefined;
    return r as EnvoyRecord;
  } catch {
    return undefined;
  }
}

export function writeRecord(dir: string, record: EnvoyRecord): void {
  const tmp = join(dir, `${RECORD}.tmp`);
  writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
  renameSync(tmp, join(dir, RECORD));
}

/** Removes the folder (a clean stop: nothing to adopt next time). */
export function clearHome(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Empties the folder but for the lock this run holds: a stale record, socket and bootstrap go. */
export function clearHomeKeepingLock(dir: string): void {
  for (const name of readdirSync(dir)) if (name !== LOCK) rmSync(join(dir, name), { recursive: true, force: true });
}

/**
 * Takes the folder for this run. A lock whose process still runs (same pid, same start time) belongs to a live run:
 * refused. A lock left by a run that died is taken over. (Two runs taking over the same stale lock within the same
 * instant could both succeed; a live lock is never taken.)
 */
export function lockHome(dir: string): { ok: true } | { error: string; holder: number } | { error: string } {
  const path = join(dir, LOCK);
  const me = JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) ?? '' });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, me, { flag: 'wx', mode: 0o600 });
      return { ok: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return { error: `cannot lock ${path}: ${String(e)}` };
    }
    const held = readLock(path);
    if (held && held.pid !== process.pid && processStartTime(held.pid) === held.start && isAlive(held.pid))
      return { error: `held by pid ${held.pid}`, holder: held.pid };
    rmSync(path, { force: true });
  }
  return { error: `cannot lock ${path}` };
}

export function unlockHome(dir: string): void {
  const held = readLock(join(dir, LOCK));
  if (held?.pid === process.pid) rmSync(join(dir, LOCK), { force: true });
}

function readLock(path: string): { pid: number; start: string } | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; start?: unknown };
    return typeof v.pid === 'number' && typeof v.start === 'string' ? { pid: v.pid, start: v.start } : undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (clock ticks after boot): with the pid, it names one process for good. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; the fields after the last ')' are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The process exists and is not a zombie (an Envoy whose parent died is reaped by whoever adopted it, or not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S …"; comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: the signal test is all there is
  }
}

/**
 * The recorded Envoy, if it still runs: the pid is alive and its command line names the recorded bootstrap (a pid
 * the system gave to another program since is not an Envoy of ours).
 */
export function survivingEnvoy(record: EnvoyRecord): boolean {
  if (!isAlive(record.envoyPid)) return false;
  if (record.envoyStart !== undefined && processStartTime(record.envoyPid) !== record.envoyStart) return false;
  const cmdline = `/proc/${record.envoyPid}/cmdline`;
  if (!existsSync(cmdline)) return false;
  const args = readFileSync(cmdline, 'utf8').split('\0');
  return /envoy/.test(args[0] ?? '') && args.includes(record.bootstrapPath);
}
