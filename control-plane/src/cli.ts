#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { bootstrapCommand } from './commands/bootstrap.js';
import type { XdsProtocol } from './runtime/bootstrap.js';

const USAGE = `usage: mtls-edge <command> [options]

commands:
  run        --config FILE [--node-id ID] [--no-envoy] [--no-watch] [--xds-protocol sotw|delta]
             [--envoy-concurrency N] [--drain-time-s N]
             start the control plane and (unless --no-envoy) Envoy as a child process;
             edits to the config or any file it names reload without a restart (unless --no-watch)
  validate   --config FILE   check a config; exits 1 and lists every error (file:line: key: message)
  bootstrap  --config FILE [--node-id ID] [--xds-host HOST] [--envoy-admin-address HOST:PORT] [--xds-protocol sotw|delta]
             print the Envoy bootstrap that points an Envoy at this control plane

Every config option can also be set with its upper-case environment variable (CLIENT_CA_FILE, ...).`;

function xdsProtocol(value: string | undefined): XdsProtocol {
  if (value === undefined || value === 'sotw' || value === 'delta') return value ?? 'sotw';
  throw new Error(`--xds-protocol must be sotw or delta, not ${JSON.stringify(value)}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      'node-id': { type: 'string' },
      'no-envoy': { type: 'boolean' },
      'no-watch': { type: 'boolean' },
      'envoy-concurrency': { type: 'string' },
      'drain-time-s': { type: 'string' },
      'xds-host': { type: 'string' },
      'envoy-admin-address': { type: 'string' },
      'xds-protocol': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const configPath = values.config ?? process.env['MTLS_EDGE_CONFIG'];
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
    case 'bootstrap':
      return bootstrapCommand(configPath, { nodeId: values['node-id'], xdsHost: values['xds-host'], envoyAdminAddress: values['envoy-admin-address'], protocol: xdsProtocol(values['xds-protocol']) });
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
