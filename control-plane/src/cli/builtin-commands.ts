import { versions } from '../runtime/project-root.js';
import { WORK_COMMANDS } from './commands.js';
import { completionScript, SHELLS, type Shell } from './completion.js';
import { commandHelp, generalHelp } from './help.js';
import { defineCommand, UsageError, type CommandSpec } from './spec.js';

/** `mtls-edge version`, `mtls-edge --version`: what runs, and for which Envoy. */
export function versionText(): string {
  const v = versions();
  if (v === undefined) return 'mtls-edge (version unknown: package.json or envoy/VERSION not found)\n';
  return `mtls-edge ${v.mtlsEdge} (Envoy ${v.envoy}, Node.js ${process.versions.node})\n`;
}

/** The commands about the CLI itself, after those that do the work. */
const BUILTIN_COMMANDS: readonly CommandSpec[] = [
  defineCommand({
    name: 'help',
    summary: "show the commands, or one command's options",
    synopsis: '[COMMAND]',
    description: 'Prints the list of commands, or the usage and options of COMMAND.',
    options: {},
    positionals: {
      subcommands: WORK_COMMANDS.map((c) => ({ name: c.name, description: c.summary })),
      files: false,
    },
    run: (_v, [topic, ...rest]) => {
      if (rest.length > 0) throw new UsageError(`help takes one command, got ${[topic, ...rest].join(' ')}`);
      process.stdout.write(topic === undefined ? generalHelp(ALL_COMMANDS) : commandHelp(findCommand(topic)));
      return 0;
    },
  }),
  defineCommand({
    name: 'completion',
    summary: 'print a completion script for bash, zsh or fish',
    synopsis: 'bash|zsh|fish',
    description:
      'Prints a script that completes commands, options and files in your shell. For example:\n' +
      '  bash: source <(mtls-edge completion bash)  (or keep it in ~/.local/share/bash-completion/completions/)\n' +
      '  zsh:  source <(mtls-edge completion zsh)   (after compinit; or keep it as _mtls-edge in $fpath)\n' +
      '  fish: mtls-edge completion fish | source   (or keep it in ~/.config/fish/completions/mtls-edge.fish)',
    options: {},
    positionals: {
      subcommands: SHELLS.map((name) => ({ name, description: `a completion script for ${name}` })),
      files: false,
    },
    run: (_v, args) => {
      const [shell] = args;
      if (args.length !== 1 || !SHELLS.includes(shell as Shell)) {
        throw new UsageError(`which shell? completion takes one of ${SHELLS.join(', ')}`);
      }
      process.stdout.write(completionScript(shell as Shell, ALL_COMMANDS));
      return 0;
    },
  }),
  defineCommand({
    name: 'version',
    summary: "print mtls-edge's version and the Envoy release it is built for",
    synopsis: '',
    description: "Prints mtls-edge's version, the Envoy release its config is made for, and Node.js's version.",
    options: {},
    positionals: 'none',
    run: () => {
      process.stdout.write(versionText());
      return 0;
    },
  }),
];

export const ALL_COMMANDS: readonly CommandSpec[] = [...WORK_COMMANDS, ...BUILTIN_COMMANDS];

/** The command of that name; a near miss gets a suggestion. */
export function findCommand(name: string): CommandSpec {
  const found = ALL_COMMANDS.find((c) => c.name === name);
  if (found) return found;
  const near = ALL_COMMANDS.find((c) => c.name.startsWith(name) || name.startsWith(c.name));
  const hint = near ? ` Did you mean '${near.name}'?` : '';
  throw new UsageError(`unknown command ${JSON.stringify(name)}.${hint} Run 'mtls-edge help' for the list.`);
}
