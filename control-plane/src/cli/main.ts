import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ALL_COMMANDS, findCommand, versionText } from './builtin-commands.js';
import { commandHelp, generalHelp } from './help.js';
import { HELP_OPTION, UsageError, type CommandSpec, type OptionSpecs, type OptionValues } from './spec.js';

/**
 * The CLI: help and the version on stdout (exit 0), a command-line mistake on stderr with where to find the help
 * (exit 2), a command's own exit code otherwise (1: it failed, e.g. a config with errors).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  let command: CommandSpec | undefined;
  try {
    if (first === undefined || first === '--help' || first === '-h') {
      process.stdout.write(generalHelp(ALL_COMMANDS));
      return 0;
    }
    if (first === '--version') {
      process.stdout.write(versionText());
      return 0;
    }
    if (first.startsWith('-')) {
      throw new UsageError(`the command comes first, then its options: mtls-edge <command> ${argv.join(' ')}`);
    }
    command = findCommand(first);
    const { values, positionals } = parseCommandLine(command, rest);
    if (values['help'] === true) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (command.positionals === 'none' && positionals.length > 0) {
      throw new UsageError(`${command.name} takes no arguments, got ${JSON.stringify(positionals[0])}`);
    }
    // The table's entries were typed by their own options (defineCommand); parseArgs read exactly those.
    return await command.run(values as OptionValues<OptionSpecs>, positionals);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const who = command ? `mtls-edge ${command.name}` : 'mtls-edge';
    const hint = /mtls-edge help/.test(e.message)
      ? ''
      : `\nRun '${command ? `mtls-edge help ${command.name}` : 'mtls-edge help'}' for the options.`;
    process.stderr.write(`${who}: ${e.message}${hint}\n`);
    return 2;
  }
}

type Values = Record<string, string | boolean | string[] | undefined>;

function parseCommandLine(command: CommandSpec, args: string[]): { values: Values; positionals: string[] } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: HELP_OPTION };
  for (const [name, o] of Object.entries(command.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError(parseArgsMessage(e));
  }
}

/** Node's parseArgs errors, in the CLI's words. */
function parseArgsMessage(e: unknown): string {
  const error = e as { code?: string; message?: string };
  const option = /'(-[^' ]*)/.exec(error.message ?? '')?.[1];
  const longName = /--[\w-]+/.exec(error.message ?? '')?.[0] ?? option;
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trimEnd();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(error.message ?? '')) return `${longName} takes no value`;
      // A value that starts with "-" looks like the next option: Node asks for it joined with "=".
      if (/ambiguous/.test(error.message ?? '')) return `${longName}'s value starts with "-": write ${longName}=VALUE`;
      return `${longName} needs a value`;
    default:
      return error.message ?? String(e);
  }
}
