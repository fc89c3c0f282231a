import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { CLI } from './edge.js';

/**
 * The signing key of control planes that tests run as replicas: `run --no-envoy` refuses to start without one
 * (issue 13), and replicas that share it sign and publish alike. Given as SIGNING_KEY, as Pomerium takes it.
 */
const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

export const REPLICA_ENV: Readonly<Record<string, string>> = { SIGNING_KEY: Buffer.from(pem).toString('base64') };

/** The environment of a spawned `run --no-envoy`. */
export function replicaEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...REPLICA_ENV };
}

/** `mtls-edge run --config FILE --no-envoy` with the replicas' key (and `env`: ADMIN_ADDRESS…), output discarded. */
export function startReplica(configPath: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, 'run', '--config', configPath, '--no-envoy'], {
    stdio: 'ignore',
    env: { ...replicaEnv(), ...env },
  });
}
