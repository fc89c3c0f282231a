// `run`'s own Envoy: started as a child, or adopted when a previous `run` died and left it serving.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { AdoptedEnvoy, type LocalEnvoy } from './adopted-envoy.js';
import { readBootstrapTemplate, renderBootstrap, type XdsProtocol } from './bootstrap.js';
import {
  clearHome,
  clearHomeKeepingLock,
  envoyHome,
  lockHome,
  processStartTime,
  readRecord,
  survivingEnvoy,
  unlockHome,
  writeRecord,
  type EnvoyRecord,
} from './envoy-home.js';
import { EnvoyProcess } from './envoy-process.js';

/** The folder, and the Envoy found serving from it, if any. */
export interface EnvoyPlace {
  dir: string;
  survivor?: EnvoyRecord;
}

/**
 * Before the control plane opens its private socket: the Envoy's folder, locked for this run, and whether a previous
 * run's Envoy still serves from it. While another run holds the folder (it lives), starting a second one on the same
 * admin address is an error. A record of an Envoy that is gone is cleared.
 */
export function findEnvoyPlace(config: Config): EnvoyPlace | { error: string } {
  const home = envoyHome(config.envoyAdminAddress);
  if ('error' in home) return home;
  const lock = lockHome(home.dir);
  if ('error' in lock) {
    const { host, port } = config.envoyAdminAddress;
    return {
      error:
        'holder' in lock
          ? `another mtls-edge run (pid ${lock.holder}) serves the Envoy with admin address ${host}:${port}: ` +
            `stop it first, or give this one another envoy_admin_address`
          : lock.error,
    };
  }
  const record = readRecord(home.dir);
  if (record && survivingEnvoy(record)) {
    // Its socket file is the dead run's: the new server binds the same path, and Envoy reconnects to it.
    rmSync(join(home.dir, 'xds.sock'), { force: true });
    return { dir: home.dir, survivor: record };
  }
  clearHomeKeepingLock(home.dir);
  return { dir: home.dir };
}

export interface LocalEnvoyOptions {
  place: EnvoyPlace;
  privateSocket: string;
  binary: string;
  nodeId: string;
  protocol: XdsProtocol;
  concurrency?: number;
  drainTimeSeconds?: number;
  /** Envoy's own log level (its --log-level). */
  logLevel?: string;
}

/** Adopts the surviving Envoy, or renders the bootstrap and starts a new one; records who serves it either way. */
export function startLocalEnvoy(
  config: Pick<Config, 'envoyAdminAddress' | 'envoyHealthAddress' | 'metricsAddress'>,
  o: LocalEnvoyOptions,
  log: Logger,
  onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): LocalEnvoy {
  const { dir, survivor } = o.place;
  const bootstrap = renderBootstrap(readBootstrapTemplate(), {
    nodeId: o.nodeId,
    xds: { kind: 'private-socket', path: o.privateSocket },
    envoyAdmin: config.envoyAdminAddress,
    health: config.envoyHealthAddress,
    metrics: config.metricsAddress,
    protocol: o.protocol,
  });
  if (survivor) {
    const envoy = new AdoptedEnvoy(survivor.envoyPid, log);
    // The adopted Envoy keeps what it was started with: say so when this run would have started it otherwise.
    if (readFileSync(survivor.bootstrapPath, 'utf8') !== bootstrap)
      log.warn(
        { pid: survivor.envoyPid },
        'the adopted Envoy runs the previous bootstrap (node id, protocol, health or metrics address differ): ' +
          'stop run with SIGTERM and start it again to apply them',
      );
    envoy.start(onUnexpectedExit);
    return envoy;
  }
  const bootstrapPath = join(dir, 'bootstrap.yaml');
  writeFileSync(bootstrapPath, bootstrap, { mode: 0o600 });
  const envoy = new EnvoyProcess(
    {
      binary: o.binary,
      bootstrapPath,
      concurrency: o.concurrency,
      drainTimeSeconds: o.drainTimeSeconds,
      logLevel: o.logLevel,
    },
    log,
  );
  envoy.start(onUnexpectedExit);
  if (envoy.pid !== undefined)
    writeRecord(dir, {
      envoyPid: envoy.pid,
      envoyStart: processStartTime(envoy.pid),
      bootstrapPath,
      startedAt: new Date().toISOString(),
    });
  return envoy;
}

/** After a clean stop: nothing left to adopt. */
export function leaveEnvoyPlace(place: EnvoyPlace | undefined): void {
  if (place && existsSync(place.dir)) clearHome(place.dir);
}

/** After a failed start with an adopted Envoy: it serves on, and the next run may adopt it. */
export function releaseEnvoyPlace(place: EnvoyPlace | undefined): void {
  if (place) unlockHome(place.dir);
}
