import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { LocalEnvoy } from './adopted-envoy.js';
import { forwardAccessLog } from './envoy-access-log.js';

/** Envoy's own default: how long listeners drain (on an edit, and on a stop). */
export const DEFAULT_DRAIN_SECONDS = 15;

export interface EnvoyProcessOptions {
  binary: string;
  bootstrapPath: string;
  /** Worker threads; defaults to the machine's cores. */
  concurrency?: number;
  /** How long changed listeners drain; short in tests. */
  drainTimeSeconds?: number;
  logLevel?: string;
  /** How often Envoy writes buffered access log lines out. */
  accessLogFlushMs?: number;
}

/**
 * Envoy's warnings that the docs answer, shown at debug: the SNI matcher that picks a filter chain is in a proto file
 * Envoy marks work-in-progress; its stable alternative (each chain's own server_names) would drain a chain's
 * connections whenever one of its hosts is added or removed (translate/listener.ts, docs/architecture.md).
 */
const EXPLAINED_WARNINGS = /^message 'xds\.type\.matcher\.v3\.ServerNameMatcher(\.DomainMatcher)?' .* work-in-progress/;

/** Envoy as a child process: logs forwarded as JSON lines, stopped with the control plane. */
export class EnvoyProcess implements LocalEnvoy {
  readonly adopted = false;
  private child: ChildProcess | undefined;
  private stopRequested = false;
  private exited: Promise<number | null> | undefined;

  constructor(
    private readonly options: EnvoyProcessOptions,
    private readonly log: Logger,
  ) {}

  start(onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    const o = this.options;
    const args = [
      '-c',
      o.bootstrapPath,
      // No shared memory: several Envoys can share a machine, and sandboxes without /dev/shm work.
      '--disable-hot-restart',
      '--concurrency',
      String(o.concurrency ?? availableParallelism()),
      '--drain-time-s',
      String(o.drainTimeSeconds ?? DEFAULT_DRAIN_SECONDS),
      '--log-level',
      o.logLevel ?? 'info',
      '--log-format',
      '%l|%n|%v',
      // Access log lines reach stdout when this timer flushes them (Envoy's default: every 10 s).
      '--file-flush-interval-msec',
      String(o.accessLogFlushMs ?? 250),
    ];
    // A process group of its own: a Ctrl-C in the terminal reaches `run`, which drains Envoy before stopping it,
    // not Envoy directly (which would stop at once, cutting requests).
    const child = spawn(o.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.log.info({ pid: child.pid, binary: o.binary, args }, 'envoy started');
    // Envoy writes its own logs to stderr and the access log (one JSON object per request) to stdout.
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => this.forward(line));
    if (child.stdout) forwardAccessLog(child.stdout, this.log);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.log.info({ pid: child.pid, code, signal }, 'envoy exited');
        if (!this.stopRequested) onUnexpectedExit(code, signal);
        resolve(code);
      });
      child.on('error', (e) => {
        this.log.error({ err: e.message }, 'envoy could not start');
        if (!this.stopRequested) onUnexpectedExit(null, null);
        resolve(null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** For the last moment of the process (`exit` handlers cannot wait): no Envoy may outlive its control plane. */
  killNow(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      this.stopRequested = true;
      child.kill('SIGKILL');
    }
  }

  /** SIGTERM, then SIGKILL if Envoy has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopRequested = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private forward(line: string): void {
    const [level, logger, ...rest] = line.split('|');
    const msg = rest.join('|');
    const fields = { src: 'envoy', logger };
    if (level === 'error' || level === 'critical') this.log.error(fields, msg);
    // Once stopped on purpose, Envoy's warnings say it was (SIGTERM caught, its xDS stream closed).
    else if (level === 'warning' && (this.stopRequested || EXPLAINED_WARNINGS.test(msg))) this.log.debug(fields, msg);
    else if (level === 'warning') this.log.warn(fields, msg);
    else if (level === 'debug' || level === 'trace') this.log.debug(fields, msg);
    else if (msg) this.log.info(fields, msg);
    else this.log.info({ src: 'envoy' }, line);
  }
}
