#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { bootstrapCommand } from './commands/bootstrap.js';
import { certsCommand } from './commands/certs.js';
import { drainCommand, envoyCommand } from './commands/drain.js';
import { startVerifyApp } from './demo/verify-app.js';
import type { XdsProtocol } from './runtime/bootstrap.js';

const USAGE = `usage: mtls-edge <command> [options]

commands:
  run        --config FILE [--node-id ID] [--no-envoy] [--no-watch] [--xds-protocol sotw|delta]
             [--envoy-concurrency N] [--drain-time-s N]
             start the control plane and (unless --no-envoy) Envoy as a child process;
             edits to the config or any file it names reload without a restart (unless --no-watch)
  validate   --config FILE   check a config; exits 1 and lists every error (file:line: key: message)
  certs      ca | server NAME... | client IDENTITY | crl CERT... | control-plane HOST... | envoy NODE_ID|--fleet NAME
             | signing-key
             [--dir DIR] [--force] [--password P] [--legacy]
             development certificates instead of mkcert (see mtls-edge certs --help)
  verify-app [--address HOST:PORT]
             a demo upstream that shows the client identity the edge forwards (default 127.0.0.1:8000)
  bootstrap  --config FILE --node-id ID --xds-client-cert FILE --xds-client-key FILE --xds-ca FILE
             [--xds-host HOST[:PORT]]... [--xds-server-name NAME] [--envoy-admin-address HOST:PORT]
             [--health-address HOST:PORT] [--metrics-address HOST:PORT] [--xds-protocol sotw|delta]
             print the Envoy bootstrap that points an Envoy at this control plane over mutual TLS
  drain      [--envoy-admin-address HOST:PORT] [--seconds N] [--drain-time-s N]
             before Envoy is stopped (a preStop hook): fail its /healthz for N s (5), then drain its
             connections (up to 15 s); exits when Envoy can be stopped without cutting a request
  envoy      [--envoy-admin-address HOST:PORT] [--seconds N] [--drain-time-s N] -- ENVOY_ARGS...
             run Envoy so that SIGTERM drains it first (as drain, above), where no preStop hook exists

Every config option can also be set with its upper-case environment variable (CLIENT_CA_FILE, ...).`;

function xdsProtocol(value: string | undefined): XdsProtocol {
  if (value === undefined || value === 'sotw' || value === 'delta') return value ?? 'sotw';
  throw new Error(`--xds-protocol must be sotw or delta, not ${JSON.stringify(value)}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      force: { type: 'boolean' },
      password: { type: 'string' },
      legacy: { type: 'boolean' },
      address: { type: 'string' },
      config: { type: 'string', short: 'c' },
      'node-id': { type: 'string' },
      'no-envoy': { type: 'boolean' },
      'no-watch': { type: 'boolean' },
      'envoy-concurrency': { type: 'string' },
      'drain-time-s': { type: 'string' },
      'xds-host': { type: 'string', multiple: true },
      'xds-server-name': { type: 'string' },
      'xds-ca': { type: 'string' },
      'xds-client-cert': { type: 'string' },
      'xds-client-key': { type: 'string' },
      fleet: { type: 'string' },
      'envoy-admin-address': { type: 'string' },
      'health-address': { type: 'string' },
      'metrics-address': { type: 'string' },
      seconds: { type: 'string' },
      'xds-protocol': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const configPath = values.config ?? process.env['MTLS_EDGE_CONFIG'];
  if (positionals.length > 0 && command !== 'certs' && command !== 'envoy')
    throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}\n${USAGE}`);
  switch (values.help ? 'help' : command) {
    case 'run':
      return runCommand({
        configPath,
        nodeId: values['node-id'],
        startEnvoy: !values['no-envoy'],
        watch: !values['no-watch'],
        envoyConcurrency: values['envoy-concurrency'] ? Number(values['envoy-concurrency']) : undefined,
        drainTimeSeconds: values['drain-time-s'] ? Number(values['drain-time-s']) : undefined,
        xdsProtocol: xdsProtocol(values['xds-protocol']),
      });
    case 'validate':
      return validateCommand(configPath);
    case 'certs':
      return certsCommand(positionals, {
        dir: values.dir ?? 'certs',
        force: values.force ?? false,
        password: values.password,
        legacy: values.legacy ?? false,
        fleet: values.fleet,
      });
    case 'verify-app': {
      const [host = '127.0.0.1', port = '8000'] = (values.address ?? '127.0.0.1:8000').split(/:(?=\d+$)/);
      const server = await startVerifyApp(host, Number(port));
      process.stdout.write(`verify app on http://${host}:${port}\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => resolve()));
      });
      return 0;
    }
    case 'bootstrap':
      return bootstrapCommand(configPath, {
        nodeId: values['node-id'],
        xdsHosts: values['xds-host'] ?? [],
        xdsServerName: values['xds-server-name'],
        xdsCa: values['xds-ca'],
        xdsClientCert: values['xds-client-cert'],
        xdsClientKey: values['xds-client-key'],
        envoyAdminAddress: values['envoy-admin-address'],
        healthAddress: values['health-address'],
        metricsAddress: values['metrics-address'],
        protocol: xdsProtocol(values['xds-protocol']),
      });
    case 'drain':
      return drainCommand({
        envoyAdminAddress: values['envoy-admin-address'],
        seconds: values.seconds,
        drainSeconds: values['drain-time-s'],
      });
    case 'envoy':
      return envoyCommand(positionals, {
        envoyAdminAddress: values['envoy-admin-address'],
        seconds: values.seconds,
        drainSeconds: values['drain-time-s'],
      });
    default:
      process.stderr.write(USAGE + '\n');
      return command === undefined || values.help ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mtls-edge: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
