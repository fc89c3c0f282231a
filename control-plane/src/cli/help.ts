import type { CommandSpec, OptionSpec } from './spec.js';

/** `mtls-edge help`: every command with its one-line summary. */
export function generalHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'usage: mtls-edge <command> [options]',
    '',
    'An edge proxy that asks end users for client certificates (mutual TLS): Envoy serves, this control plane',
    'configures it from a Pomerium-style YAML file.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'mtls-edge help <command>' (or 'mtls-edge <command> --help') for a command's options.",
    'Every config option can also be set by its upper-case environment variable (CLIENT_CA_FILE, ROUTES, ...).',
    '',
  ].join('\n');
}

/** `mtls-edge help COMMAND`, `mtls-edge COMMAND --help`. */
export function commandHelp(command: CommandSpec): string {
  const lines = [`usage: mtls-edge ${command.name} ${command.synopsis}`.trimEnd(), '', command.description, ''];
  const positionals = command.positionals;
  if (typeof positionals === 'object') {
    lines.push('steps:');
    const labels = positionals.subcommands.map((s) => (s.args ? `${s.name} ${s.args}` : s.name));
    const width = Math.max(...labels.map((l) => l.length)) + 2;
    positionals.subcommands.forEach((s, i) => lines.push(`  ${labels[i]!.padEnd(width)}${s.description}`));
    lines.push('');
  }
  const options = Object.entries(command.options).map(([name, o]) => [optionLabel(name, o), optionText(o)] as const);
  options.push(['-h, --help', 'show this help']);
  const width = Math.max(...options.map(([label]) => label.length)) + 2;
  lines.push('options:', ...options.map(([label, text]) => `  ${label.padEnd(width)}${text}`), '');
  return lines.join('\n');
}

function optionLabel(name: string, o: OptionSpec): string {
  const flag = o.short ? `-${o.short}, --${name}` : `    --${name}`;
  return o.type === 'string' ? `${flag} ${o.value ?? 'VALUE'}` : flag;
}

function optionText(o: OptionSpec): string {
  const repeat = o.multiple ? ' (repeatable)' : '';
  const choices = o.choices ? ` [${o.choices.join('|')}]` : '';
  return `${o.description}${choices}${repeat}`;
}
