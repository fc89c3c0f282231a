import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authzChecksAnswered } from '../../control-plane/bench/checks.js';
import { findEnvoy } from '../../control-plane/src/runtime/find-envoy.js';
import { freePort } from './ports.js';

/** The bundled CLI, as bin/mtls-edge.js runs it (scripts/bundle.mjs). */
export const CLI = fileURLToPath(new URL('../../mtls-edge.mjs', import.meta.url));

/** One word for `sh -c`, whatever it holds. */
export const shellQuoted = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

export interface EdgeOptions {
  /** Folder for config.yaml; certificate paths in the YAML resolve against it. */
  dir: string;
  /** YAML without the address keys, which the harness adds with free ports. */
  yaml: string;
  env?: Record<string, string>;
  /** The CLI's working directory (default: the test's). */
  cwd?: string;
  xdsProtocol?: 'sotw' | 'delta';
  /** Envoy's --drain-time-s (1 by default): how long a drained filter chain's connections may stay open. */
  drainTimeSeconds?: number;
  /** Runs the CLI on a pseudo-terminal (`script`, util-linux): its log is pretty-printed, as a person sees it. */
  terminal?: boolean;
  /** The HTTPS port, when the test must know it before the edge starts (a redirect URI registered at an IdP). */
  httpsPort?: number;
}

export interface RunningEdge {
  configPath: string;
  /** Rewrites config.yaml (keeping the address lines), by default as editors do: temp file + rename. */
  writeConfig(yaml: string, how?: 'rename' | 'in-place'): void;
  /** Polls /status until `done` holds; throws with the last status after `timeoutMs`. */
  waitForStatus(done: (s: EdgeStatus) => boolean, timeoutMs?: number): Promise<EdgeStatus>;
  /** Envoy admin counters and gauges whose names start with `prefix`. */
  envoyStats(prefix: string): Promise<Record<string, number>>;
  /** ext_authz Checks the control plane has answered so far (its /metrics). */
  authzChecks(): Promise<number>;
  httpsPort: number;
  adminUrl: string;
  envoyAdminUrl: string;
  output(): string;
  status(): Promise<EdgeStatus>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface EdgeStatus {
  configVersion: string;
  typeVersions: Record<string, string>;
  envoyPid: number | null;
  ready: boolean;
  synced: boolean;
  reload: {
    reloads: number;
    failures: number;
    lastApplied?: string;
    errors: Array<{ file: string; line?: number; key: string; message: string; text: string }>;
  };
  rejected: { version: string; node: string; typeUrl: string; message: string } | null;
  nodes: Array<{
    node: string;
    protocol: 'sotw' | 'delta';
    types: Array<{ typeUrl: string; acked?: string; nack?: { message: string } }>;
  }>;
}

/** Tests that claim Envoy behaviour fail, never skip, when Envoy is missing. */
export function requireEnvoy(): string {
  const found = findEnvoy(process.env);
  if ('error' in found) throw new Error(found.error);
  return found.path;
}

let bundleChecked = false;
/**
 * The bundle must be built from the compiled files beside it: after a `tsc` alone, the tests would run yesterday's
 * CLI and pass or fail for no reason in the source.
 */
function requireFreshBundle(): void {
  if (bundleChecked) return;
  const bundled = statSync(CLI, { throwIfNoEntry: false })?.mtimeMs;
  if (bundled === undefined) throw new Error(`${CLI} is missing: run npm run build`);
  const src = fileURLToPath(new URL('../../control-plane/src/', import.meta.url));
  const newer = readdirSync(src, { recursive: true, encoding: 'utf8' }).find(
    (f) => f.endsWith('.js') && statSync(join(src, f)).mtimeMs > bundled,
  );
  if (newer !== undefined) throw new Error(`${CLI} is older than ${newer}: run npm run build (it bundles)`);
  bundleChecked = true;
}

/** Starts `mtls-edge run` (control plane + real Envoy) and waits until /synced says Envoy has ACKed. */
export async function startEdge(o: EdgeOptions): Promise<RunningEdge> {
  requireEnvoy();
  requireFreshBundle();
  const [httpsPort, adminPort, xdsPort, envoyAdminPort] = [
    o.httpsPort ?? (await freePort()),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const configPath = join(o.dir, 'config.yaml');
  const addresses = [
    `address: 127.0.0.1:${httpsPort}`,
    `admin_address: 127.0.0.1:${adminPort}`,
    `xds_address: 127.0.0.1:${xdsPort}`,
    `envoy_admin_address: 127.0.0.1:${envoyAdminPort}`,
  ].join('\n');
  writeFileSync(configPath, `${addresses}\n${o.yaml}`);
  const writeConfig = (yaml: string, how: 'rename' | 'in-place' = 'rename') => {
    if (how === 'in-place') return writeFileSync(configPath, `${addresses}\n${yaml}`);
    const tmp = `${configPath}.tmp-${process.hrtime.bigint()}`;
    writeFileSync(tmp, `${addresses}\n${yaml}`);
    renameSync(tmp, configPath);
  };
  const args = [
    CLI,
    'run',
    '--config',
    configPath,
    '--envoy-concurrency',
    '1',
    '--drain-time-s',
    String(o.drainTimeSeconds ?? 1),
    '--xds-protocol',
    o.xdsProtocol ?? 'sotw',
  ];
  const child = spawn(
    o.terminal ? 'script' : process.execPath,
    // `script` passes SIGTERM on to the command and exits with its status.
    o.terminal ? ['-qfec', [process.execPath, ...args].map(shellQuoted).join(' '), '/dev/null'] : args,
    { env: { ...process.env, ...o.env }, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  // Decoded across reads: a character cut between two chunks (the log's `→`) must not become two bad ones.
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const status = async () => (await (await fetch(`${adminUrl}/status`)).json()) as EdgeStatus;
  const envoyAdminUrl = `http://127.0.0.1:${envoyAdminPort}`;
  let envoyPid: number | undefined;
  const edge: RunningEdge = {
    configPath,
    writeConfig,
    waitForStatus: async (done, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = await status();
      while (!done(last)) {
        if (Date.now() > deadline)
          throw new Error(`status did not settle in ${timeoutMs} ms: ${JSON.stringify(last, null, 1).slice(0, 3000)}`);
        await new Promise((r) => setTimeout(r, 50));
        last = await status();
      }
      return last;
    },
    authzChecks: async () => authzChecksAnswered(await (await fetch(`${adminUrl}/metrics`)).text()),
    envoyStats: async (prefix) => {
      const text = await (
        await fetch(`${envoyAdminUrl}/stats?filter=${encodeURIComponent('^' + prefix.replace(/\./g, '\\.'))}`)
      ).text();
      return Object.fromEntries(
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(': '))
          .map(([k, v]) => [k ?? '', Number(v)]),
      );
    },
    httpsPort,
    adminUrl,
    envoyAdminUrl,
    output: () => out,
    status,
    // The pid from /status once ready, else from the log (a run that hung before it was ready).
    stop: (signal = 'SIGTERM') => stopChild(child, exited, signal, () => envoyPid ?? startedEnvoys(out)[0]),
  };
  try {
    await waitReady(adminUrl, child, () => out);
    envoyPid = (await status()).envoyPid ?? undefined;
  } catch (e) {
    await edge.stop();
    throw e;
  }
  return edge;
}

async function waitReady(
  adminUrl: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`mtls-edge exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      const res = await fetch(`${adminUrl}/synced`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mtls-edge not ready after ${timeoutMs} ms:\n${output()}`);
}

/** The pids of the Envoys a run's JSON log says it started, in order. */
export const startedEnvoys = (log: string): number[] =>
  [...log.matchAll(/"pid":(\d+),"binary":[^\n]*"msg":"envoy started"/g)].map((m) => Number(m[1]));

/**
 * Signals `run` and waits for it. One that has not exited after 10 s is killed, and so is its Envoy: `run` starts
 * Envoy in a process group of its own (so that it outlives a crashed `run`), so nothing else would end it.
 */
async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  signal: NodeJS.Signals,
  envoyPid: () => number | undefined,
): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
    try {
      const pid = envoyPid();
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, 10_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Runs the CLI to completion (validate, or run with a broken config). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mtls-edge ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
