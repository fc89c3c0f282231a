/**
 * How a command of the CLI is described: one entry of the command table (commands.ts) gives its help, its shell
 * completion and its argument parsing, so the three cannot disagree. A handler reads only the options its entry
 * declares: `OptionValues` types each one, and a misspelt name is a compile error.
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's placeholder in help (FILE, N, HOST:PORT). FILE and DIR complete as paths in a shell. */
  value?: 'FILE' | 'DIR' | 'N' | 'HOST:PORT' | 'HOST[:PORT]' | 'ID' | 'NAME' | 'PASSWORD' | 'PROTOCOL' | 'LEVEL';
  /** The only values the option takes (completed in a shell, listed in help). */
  choices?: readonly string[];
  description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Each declared option's value: a string, a list of them, or a flag; absent when not given. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string;
};

/** A word a command takes after its name (certs' steps): completed in a shell and listed in its help. */
interface Subcommand {
  name: string;
  /** What follows it, for help: `NAME...`, `CERT.pem|SERIAL...`. */
  args?: string;
  description: string;
}

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** What follows `mtls-edge NAME` in the usage line. */
  synopsis: string;
  /** The command's help, after the usage line: what it does, in a few lines. */
  description: string;
  options: O;
  /**
   * The words after the command's name: none, a subcommand and its arguments (certs; `files`: they may be paths), or
   * anything (passed on, after `--`, to Envoy).
   */
  positionals: 'none' | { subcommands: readonly Subcommand[]; files: boolean } | 'passthrough';
  run: (values: OptionValues<O>, positionals: string[]) => number | Promise<number>;
}

/** A command entry, with its handler typed by its own options. */
export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** Options more than one command takes, written once. */
export const CONFIG_OPTION = {
  type: 'string',
  short: 'c',
  value: 'FILE',
  description: 'the config file (default: $MTLS_EDGE_CONFIG; options may also come from environment variables)',
} as const satisfies OptionSpec;

export const XDS_PROTOCOL_OPTION = {
  type: 'string',
  value: 'PROTOCOL',
  choices: ['sotw', 'delta'],
  description: 'how Envoy subscribes: state of the world or delta xDS (default: sotw)',
} as const satisfies OptionSpec;

export const ENVOY_ADMIN_OPTION = {
  type: 'string',
  value: 'HOST:PORT',
  description: "Envoy's admin address (default: 127.0.0.1:9901)",
} as const satisfies OptionSpec;

export const DRAIN_OPTIONS = {
  'envoy-admin-address': ENVOY_ADMIN_OPTION,
  seconds: { type: 'string', value: 'N', description: 'seconds /healthz fails before the drain starts (default: 5)' },
  'drain-time-s': {
    type: 'string',
    value: 'N',
    description: 'seconds the open connections get to finish (default: 15)',
  },
} as const satisfies OptionSpecs;

/** Every command takes -h/--help. */
export const HELP_OPTION = { type: 'boolean', short: 'h', description: 'show this help' } as const satisfies OptionSpec;

/** A command-line mistake: the dispatcher prints it with the command's name and where its help is, and exits 2. */
export class UsageError extends Error {}
