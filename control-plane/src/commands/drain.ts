import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { Config, SocketAddress } from '../config/index.js';
import { parseAddress } from '../config/server.js';
import { findEnvoy } from '../runtime/find-envoy.js';
import { Diagnostics } from '../source/diagnostics.js';
import { drainEnvoy } from '../runtime/envoy-drain.js';
import { printErrors } from './load.js';

export interface DrainCommandOptions {
  envoyAdminAddress?: string;
  /** Seconds /healthz fails before the listeners drain. */
  seconds?: string;
  /** Seconds the open connections get to finish. */
  drainSeconds?: string;
}

/**
 * `mtls-edge drain`: for a preStop hook next to an Envoy (Kubernetes, compose, systemd's ExecStop). It returns when
 * Envoy may be stopped without cutting a request; the orchestrator's SIGTERM to Envoy follows.
 */
export async function drainCommand(o: DrainCommandOptions): Promise<number> {
  const plan = drainPlan(o);
  if ('errors' in plan) {
    printErrors(plan.errors);
    return 2;
  }
  return drainNow(plan);
}

/**
 * `mtls-edge envoy [drain options] -- ENVOY_ARGS…`: Envoy as a child that drains on SIGTERM, for where no preStop
 * hook exists (docker compose, a plain `docker stop`): Envoy itself stops at once on SIGTERM, cutting requests.
 * A second signal stops Envoy at once.
 */
export async function envoyCommand(args: string[], o: DrainCommandOptions): Promise<number> {
  const plan = drainPlan(o);
  if ('errors' in plan) {
    printErrors(plan.errors);
    return 2;
  }
  const found = findEnvoy(process.env);
  if ('error' in found) {
    process.stderr.write(`mtls-edge envoy: ${found.error}\n`);
    return 1;
  }
  const child = spawn(found.path, args, { stdio: 'inherit' });
  let stopping = false;
  const onSignal = () => {
    if (stopping) return void child.kill('SIGKILL');
    stopping = true;
    void drainNow(plan).finally(() => child.kill('SIGTERM'));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`mtls-edge envoy: ${e.message}\n`);
      resolve(1);
    });
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal === 'SIGTERM' && stopping ? 0 : 1)));
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.off(signal, onSignal);
  return code;
}

interface DrainPlan {
  admin: SocketAddress;
  announce: number;
  drain: number;
}

function drainPlan(o: DrainCommandOptions): DrainPlan | { errors: Diagnostics['errors'] } {
  const diag = new Diagnostics();
  const admin = parseAddress(
    o.envoyAdminAddress ?? '127.0.0.1:9901',
    { file: 'command line', key: '--envoy-admin-address' },
    diag,
  );
  const announce = seconds(o.seconds, '--seconds', 5, diag);
  const drain = seconds(o.drainSeconds, '--drain-time-s', 15, diag);
  if (!admin || announce === undefined || drain === undefined) return { errors: diag.errors };
  return { admin, announce, drain };
}

async function drainNow(plan: DrainPlan): Promise<number> {
  const outcome = await drainEnvoy({
    admin: plan.admin,
    announceMs: plan.announce * 1000,
    drainMs: plan.drain * 1000,
    onStep: (step, detail) => process.stderr.write(`mtls-edge drain: ${describe(step, detail)}\n`),
  });
  if (!outcome.ok) {
    process.stderr.write(`mtls-edge drain: ${outcome.error}; is Envoy running with that admin address?\n`);
    return 1;
  }
  return 0;
}

function describe(step: string, detail: Record<string, unknown>): string {
  if (step === 'health-failed')
    return `health check failing; waiting ${Number(detail['announceMs']) / 1000} s for balancers`;
  if (step === 'draining')
    return `listeners draining; up to ${Number(detail['drainMs']) / 1000} s for open connections`;
  const open = Number(detail['openConnections']);
  return open === 0 ? 'drained: Envoy can be stopped' : `drain time over with ${open} connection(s) open`;
}

function seconds(value: string | undefined, key: string, fallback: number, diag: Diagnostics): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600) {
    diag.error({ file: 'command line', key }, `expected seconds from 0 to 3600, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return n;
}

/**
 * On a stop signal: /healthz fails first (for as long as the drain time, when a health listener is there for
 * balancers to watch), then the listeners drain until no connection is open or the drain time is over.
 */
export async function drainBeforeStop(
  config: Pick<Config, 'envoyAdminAddress' | 'envoyHealthAddress'>,
  drainSeconds: number,
  log: Logger,
): Promise<void> {
  const outcome = await drainEnvoy({
    admin: config.envoyAdminAddress,
    announceMs: config.envoyHealthAddress ? drainSeconds * 1000 : 0,
    drainMs: drainSeconds * 1000,
    onStep: (step, detail) => log.info(detail, `envoy ${step}`),
  });
  if (!outcome.ok) log.warn({ err: outcome.error }, 'envoy could not drain; stopping it anyway');
}
