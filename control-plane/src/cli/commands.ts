import { bootstrapCommand } from '../commands/bootstrap.js';
import { CERTS_STEPS, certsCommand } from '../commands/certs.js';
import { drainCommand, envoyCommand } from '../commands/drain.js';
import { runCommand } from '../commands/run.js';
import { validateCommand } from '../commands/validate.js';
import { verifyAppCommand } from '../commands/verify-app.js';
import type { XdsProtocol } from '../runtime/bootstrap.js';
import { configPathFor } from './config-path.js';
import {
  CONFIG_OPTION,
  defineCommand,
  DRAIN_OPTIONS,
  ENVOY_ADMIN_OPTION,
  XDS_PROTOCOL_OPTION,
  type CommandSpec,
  UsageError,
} from './spec.js';

const ENVOY_LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;

/**
 * The commands that do the work, in the order `mtls-edge help` lists them. A new command is one entry here (and
 * its module in commands/); help, completion and parsing follow from it. `help`, `completion` and `version`, which
 * read this table, are in builtin-commands.ts.
 */
export const WORK_COMMANDS: readonly CommandSpec[] = [
  defineCommand({
    name: 'run',
    summary: 'start the control plane and Envoy; every edit of the config reloads without a restart',
    synopsis: '--config FILE [options]',
    description:
      'Starts the control plane and (unless --no-envoy) Envoy as a child process. Edits to the config, or to any\n' +
      'file it names, reload without a restart (unless --no-watch); a broken edit keeps the last good config.\n' +
      'Ctrl-C (SIGINT) or SIGTERM drains Envoy, then stops both.',
    options: {
      config: CONFIG_OPTION,
      'node-id': { type: 'string', value: 'ID', description: "Envoy's node id (default: mtls-edge)" },
      'no-envoy': { type: 'boolean', description: 'run the control plane only (Envoys deployed apart)' },
      'no-watch': { type: 'boolean', description: 'do not reload on edits' },
      'xds-protocol': XDS_PROTOCOL_OPTION,
      'envoy-concurrency': { type: 'string', value: 'N', description: "Envoy's worker threads (default: one per CPU)" },
      'drain-time-s': DRAIN_OPTIONS['drain-time-s'],
      'envoy-log-level': {
        type: 'string',
        value: 'LEVEL',
        choices: ENVOY_LOG_LEVELS,
        description: "Envoy's own log level (default: warning on a terminal, info otherwise)",
      },
    },
    positionals: 'none',
    run: (v) =>
      runCommand({
        envoyLogLevel: choice('--envoy-log-level', v['envoy-log-level'], ENVOY_LOG_LEVELS),
        configPath: configPathFor(v.config),
        nodeId: v['node-id'],
        startEnvoy: !v['no-envoy'],
        watch: !v['no-watch'],
        envoyConcurrency: number('--envoy-concurrency', v['envoy-concurrency']),
        drainTimeSeconds: number('--drain-time-s', v['drain-time-s']),
        xdsProtocol: xdsProtocol(v['xds-protocol']),
      }),
  }),
  defineCommand({
    name: 'validate',
    summary: 'check a config and list every error in it',
    synopsis: '--config FILE [--json]',
    description:
      'Checks a config as `run` would, without starting anything. Prints "config OK: ..." and exits 0, or lists\n' +
      'every error as FILE:LINE:COLUMN: KEY: MESSAGE, sorted by file and line, and exits 1.',
    options: {
      config: CONFIG_OPTION,
      json: { type: 'boolean', description: 'print the result as one JSON object on stdout (errors or a summary)' },
    },
    positionals: 'none',
    run: (v) => validateCommand(configPathFor(v.config), { json: v.json ?? false }),
  }),
  defineCommand({
    name: 'certs',
    summary: 'development certificates, instead of mkcert: a CA, server and client certificates, a CRL',
    synopsis: '<step> [ARGS...] [--dir DIR] [--force]',
    description:
      'Each step writes all of its files or none, and prints the config lines that use them.\n' +
      'Example: mtls-edge certs ca && mtls-edge certs server localhost && mtls-edge certs client alice@example.com',
    options: {
      dir: { type: 'string', value: 'DIR', description: 'where the files go (default: ./certs)' },
      force: { type: 'boolean', description: 'replace files that exist' },
      password: { type: 'string', value: 'PASSWORD', description: "the client .p12's password (default: changeit)" },
      legacy: { type: 'boolean', description: 'a .p12 in 3DES/RC2/SHA-1, for old keychains' },
      fleet: { type: 'string', value: 'NAME', description: '(envoy) one certificate for a fleet of Envoys' },
    },
    positionals: { subcommands: CERTS_STEPS, files: true },
    run: (v, args) =>
      certsCommand(args, {
        dir: v.dir ?? 'certs',
        force: v.force ?? false,
        password: v.password,
        legacy: v.legacy ?? false,
        fleet: v.fleet,
      }),
  }),
  defineCommand({
    name: 'verify-app',
    summary: 'a demo upstream that shows the client identity the edge forwards',
    synopsis: '[--address HOST:PORT]',
    description: 'Serves a page (or JSON, on Accept: application/json) with the identity headers it received.',
    options: {
      address: { type: 'string', value: 'HOST:PORT', description: 'where it listens (default: 127.0.0.1:8000)' },
    },
    positionals: 'none',
    run: (v) => verifyAppCommand(v.address ?? '127.0.0.1:8000'),
  }),
  defineCommand({
    name: 'bootstrap',
    summary: 'print the bootstrap for an Envoy deployed apart, pointing it at this control plane',
    synopsis: '--config FILE --node-id ID --xds-client-cert FILE --xds-client-key FILE --xds-ca FILE [options]',
    description:
      'Prints the Envoy bootstrap (YAML) that connects an Envoy to this control plane over mutual TLS. Paths are as\n' +
      'the Envoy sees them. `mtls-edge certs control-plane` and `mtls-edge certs envoy` make the certificates.',
    options: {
      config: CONFIG_OPTION,
      'node-id': { type: 'string', value: 'ID', description: "the Envoy's node id (default: mtls-edge)" },
      'xds-client-cert': { type: 'string', value: 'FILE', description: "the Envoy's client certificate" },
      'xds-client-key': { type: 'string', value: 'FILE', description: "the Envoy's client key" },
      'xds-ca': { type: 'string', value: 'FILE', description: "the CA of the control plane's certificate" },
      'xds-host': {
        type: 'string',
        value: 'HOST[:PORT]',
        multiple: true,
        description: 'a control-plane replica to dial (repeat, or separate with commas)',
      },
      'xds-server-name': { type: 'string', value: 'NAME', description: 'the name to expect in its certificate' },
      'envoy-admin-address': ENVOY_ADMIN_OPTION,
      'health-address': { type: 'string', value: 'HOST:PORT', description: "the Envoy's /healthz listener" },
      'metrics-address': { type: 'string', value: 'HOST:PORT', description: "the Envoy's /metrics listener" },
      'xds-protocol': XDS_PROTOCOL_OPTION,
    },
    positionals: 'none',
    run: (v) =>
      bootstrapCommand(configPathFor(v.config), {
        nodeId: v['node-id'],
        xdsHosts: v['xds-host'] ?? [],
        xdsServerName: v['xds-server-name'],
        xdsCa: v['xds-ca'],
        xdsClientCert: v['xds-client-cert'],
        xdsClientKey: v['xds-client-key'],
        envoyAdminAddress: v['envoy-admin-address'],
        healthAddress: v['health-address'],
        metricsAddress: v['metrics-address'],
        protocol: xdsProtocol(v['xds-protocol']),
      }),
  }),
  defineCommand({
    name: 'drain',
    summary: 'before an Envoy is stopped (a preStop hook): fail its /healthz, then drain its connections',
    synopsis: '[--envoy-admin-address HOST:PORT] [--seconds N] [--drain-time-s N]',
    description:
      "Fails the Envoy's /healthz for N seconds while it still serves, then drains; returns when no connection is\n" +
      'open, so that stopping Envoy cuts no request.',
    options: DRAIN_OPTIONS,
    positionals: 'none',
    run: (v) =>
      drainCommand({
        envoyAdminAddress: v['envoy-admin-address'],
        seconds: v.seconds,
        drainSeconds: v['drain-time-s'],
      }),
  }),
  defineCommand({
    name: 'envoy',
    summary: 'run Envoy so that SIGTERM drains it first (docker compose, where no preStop hook exists)',
    synopsis: '[--envoy-admin-address HOST:PORT] [--seconds N] [--drain-time-s N] -- ENVOY_ARGS...',
    description: 'Runs Envoy with ENVOY_ARGS; on SIGTERM it drains as `drain` does, then stops Envoy.',
    options: DRAIN_OPTIONS,
    positionals: 'passthrough',
    run: (v, args) =>
      envoyCommand(args, {
        envoyAdminAddress: v['envoy-admin-address'],
        seconds: v.seconds,
        drainSeconds: v['drain-time-s'],
      }),
  }),
];

function xdsProtocol(value: string | undefined): XdsProtocol {
  if (value === undefined || value === 'sotw' || value === 'delta') return value ?? 'sotw';
  throw new UsageError(`--xds-protocol must be sotw or delta, not ${JSON.stringify(value)}`);
}

function choice(flag: string, value: string | undefined, choices: readonly string[]): string | undefined {
  if (value === undefined || choices.includes(value)) return value;
  throw new UsageError(`${flag} must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}`);
}

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`${flag} must be a number, not ${JSON.stringify(value)}`);
  }
  return n;
}
