import type { Logger } from 'pino';
import type { Config } from '../config/index.js';

/**
 * What of the config `run` started with it still needs once started: the addresses bound at start. The rest (every
 * route, the YAML source, the first translation) must not outlive the start: a whole generation of the config kept
 * for the process's life was ~20 MiB at 10,000 routes (issue 14, point 5).
 */
type StartedWith = Pick<Config, AddressKey>;
const ADDRESS_KEYS = [
  'adminAddress',
  'xdsAddress',
  'envoyAdminAddress',
  'envoyHealthAddress',
  'metricsAddress',
] as const;
type AddressKey = (typeof ADDRESS_KEYS)[number];

export function startedWith(config: Config): StartedWith {
  const { adminAddress, xdsAddress, envoyAdminAddress, envoyHealthAddress, metricsAddress } = config;
  return { adminAddress, xdsAddress, envoyAdminAddress, envoyHealthAddress, metricsAddress };
}

/** Addresses are bound at start: an edit of one applies at the next start, and the log says so. */
export function warnIfRestartNeeded(started: StartedWith, edited: Config, log: Logger): void {
  const changed = ADDRESS_KEYS.filter((k) => JSON.stringify(started[k]) !== JSON.stringify(edited[k]));
  if (changed.length > 0)
    log.warn({ changed }, 'these addresses apply at the next start of run (the rest of the edit applies now)');
}
