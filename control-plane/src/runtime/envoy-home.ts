// Where `run` keeps what its Envoy needs (the private xDS socket, the bootstrap) and a record of who runs it, in
// a folder named after the Envoy's admin address: the one thing two Envoys on a machine cannot share. When `run`
// dies without stopping its Envoy (SIGKILL, an OOM kill), the Envoy keeps serving; the next `run` with the same
// admin address finds the record and adopts that Envoy instead of failing on its ports.
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SocketAddress } from '../config/index.js';

export interface EnvoyRecord {
  envoyPid: number;
  /** The `run` process serving it: while that lives, nobody else may take the Envoy. */
  runPid: number;
  bootstrapPath: string;
  startedAt: string;
}

const RECORD = 'envoy.json';

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
    if (!pid(r.envoyPid) || !pid(r.runPid) || typeof r.bootstrapPath !== 'string') return undefined;
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

/** Empties the folder (a clean stop: nothing to adopt next time). */
export function clearHome(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
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

/** A live `mtls-edge run` (not a process that got the pid of a dead one). */
export function isLiveRun(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('run');
  } catch {
    return true;
  }
}

/**
 * The recorded Envoy, if it still runs: the pid is alive and its command line names the recorded bootstrap (a pid
 * the system gave to another program since is not an Envoy of ours).
 */
export function survivingEnvoy(record: EnvoyRecord): boolean {
  if (!isAlive(record.envoyPid)) return false;
  const cmdline = `/proc/${record.envoyPid}/cmdline`;
  if (!existsSync(cmdline)) return false;
  return readFileSync(cmdline, 'utf8').split('\0').includes(record.bootstrapPath);
}
