import type { CommandSpec, OptionSpec } from './spec.js';

/**
 * `mtls-edge completion bash|zsh|fish`: a completion script made from the command table, so that a new command or
 * option completes without anyone editing three shell scripts. Commands, options, certs' steps and help's topics
 * complete by name; an option's fixed values (--xds-protocol) by value; FILE and DIR values as paths.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell, commands: readonly CommandSpec[]): string {
  switch (shell) {
    case 'bash':
      return bashScript(commands);
    case 'zsh':
      return zshScript(commands);
    case 'fish':
      return fishScript(commands);
  }
}

const GLOBAL_FLAGS = ['--help', '-h', '--version'];

function flags(c: CommandSpec): string[] {
  const out: string[] = [];
  for (const [name, o] of Object.entries(c.options)) out.push(`--${name}`, ...(o.short ? [`-${o.short}`] : []));
  return [...out, '--help', '-h'];
}

function words(c: CommandSpec): readonly string[] {
  return typeof c.positionals === 'object' ? c.positionals.subcommands.map((s) => s.name) : [];
}

const isPath = (o: OptionSpec): boolean => o.value === 'FILE' || o.value === 'DIR';

/** Whether the words after the command (and its step) may be paths. */
const takesFiles = (c: CommandSpec): boolean =>
  c.positionals === 'passthrough' || (typeof c.positionals === 'object' && c.positionals.files);

function bashScript(commands: readonly CommandSpec[]): string {
  const names = commands.map((c) => c.name);
  const cases = commands.map((c) => {
    const values = Object.entries(c.options)
      .filter(([, o]) => o.type === 'string')
      .map(([name, o]) => {
        const pattern = [`--${name}`, ...(o.short ? [`-${o.short}`] : [])].join('|');
        const reply = isPath(o)
          ? `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -${o.value === 'DIR' ? 'd' : 'f'} -- "$cur"))`
          : o.choices
            ? `COMPREPLY=($(compgen -W "${o.choices.join(' ')}" -- "$cur"))`
            : 'COMPREPLY=()';
        return `        ${pattern}) ${reply}; return ;;`;
      });
    const steps = words(c);
    const step = steps.length
      ? [
          `      if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then`,
          `        COMPREPLY=($(compgen -W "${steps.join(' ')}" -- "$cur")); return`,
          '      fi',
        ]
      : [];
    const rest = !takesFiles(c)
      ? `      COMPREPLY=($(compgen -W "${flags(c).join(' ')}" -- "$cur"))`
      : `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${flags(c).join(' ')}" -- "$cur")); ` +
        'else compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); fi';
    return [
      `    ${c.name})`,
      ...(values.length ? ['      case "$prev" in', ...values, '      esac'] : []),
      ...step,
      rest,
      '      ;;',
    ].join('\n');
  });
  return `# mtls-edge completion for bash. Load it with: source <(mtls-edge completion bash)
# or keep it: mtls-edge completion bash > ~/.local/share/bash-completion/completions/mtls-edge
_mtls_edge() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${[...names, ...GLOBAL_FLAGS].join(' ')}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
}
complete -F _mtls_edge mtls-edge
`;
}

/** A single-quoted zsh or fish word. */
function quoted(text: string, escape: (t: string) => string): string {
  return `'${escape(text)}'`;
}
const zshQuoted = (t: string) => quoted(t, (s) => s.replaceAll("'", "'\\''"));
const fishQuoted = (t: string) => quoted(t, (s) => s.replaceAll('\\', '\\\\').replaceAll("'", "\\'"));
/** Text inside an _arguments [description]. */
const zshBracket = (t: string) => t.replaceAll('\\', '\\\\').replaceAll('[', '\\[').replaceAll(']', '\\]');
/** A name in a _describe list: its colon would end the name. */
const zshName = (t: string) => t.replaceAll(':', '\\:');

function zshScript(commands: readonly CommandSpec[]): string {
  const list = (items: { name: string; summary: string }[]) =>
    items.map((i) => `    ${zshQuoted(`${zshName(i.name)}:${i.summary}`)}`).join('\n');
  const cases = commands.map((c) => {
    const specs = Object.entries(c.options).map(([name, o]) => {
      const names = o.short ? `'(-${o.short} --${name})'{-${o.short},--${name}}` : `--${name}`;
      const desc = zshQuoted(`[${zshBracket(o.description)}]`);
      const action =
        o.type === 'boolean'
          ? ''
          : `:${(o.value ?? 'value').toLowerCase().replaceAll(':', '\\:')}:${
              o.value === 'DIR'
                ? '_files -/'
                : o.value === 'FILE'
                  ? '_files'
                  : o.choices
                    ? `(${o.choices.join(' ')})`
                    : ' '
            }`;
      return `${o.multiple ? "'*'" : ''}${names}${desc}${action ? zshQuoted(action) : ''}`;
    });
    specs.push(`'(-)'{-h,--help}'[show this help]'`);
    if (takesFiles(c)) specs.push(`'*:file:_files'`);
    const steps = typeof c.positionals === 'object' ? c.positionals.subcommands : [];
    const stepPart = steps.length
      ? [
          `      if (( CURRENT == 2 )) && [[ $PREFIX != -* ]]; then`,
          '        local -a steps',
          `        steps=(\n${list(steps.map((s) => ({ name: s.name, summary: s.description })))}\n        )`,
          `        _describe -t steps 'step' steps; return`,
          '      fi',
        ]
      : [];
    return [`    ${c.name})`, ...stepPart, `      _arguments -s ${specs.join(' \\\n        ')}`, '      ;;'].join('\n');
  });
  return `#compdef mtls-edge
# mtls-edge completion for zsh. Load it with: source <(mtls-edge completion zsh) (after compinit)
# or keep it as _mtls-edge in a folder of $fpath.
_mtls_edge() {
  if (( CURRENT == 2 )); then
    local -a commands
    commands=(
${list(commands.map((c) => ({ name: c.name, summary: c.summary })))}
    )
    _describe -t commands 'mtls-edge command' commands
    return
  fi
  local command=$words[2]
  shift words
  (( CURRENT-- ))
  case $command in
${cases.join('\n')}
  esac
}
if [[ $funcstack[1] == _mtls_edge ]]; then _mtls_edge "$@"; else compdef _mtls_edge mtls-edge; fi
`;
}

function fishScript(commands: readonly CommandSpec[]): string {
  const lines = [
    '# mtls-edge completion for fish. Load it with: mtls-edge completion fish | source',
    '# or keep it: mtls-edge completion fish > ~/.config/fish/completions/mtls-edge.fish',
    'function __mtls_edge_needs_command',
    '    test (count (commandline -opc)) -eq 1',
    'end',
    'function __mtls_edge_command_is',
    '    set -l words (commandline -opc)',
    '    set -q words[2]; and test "$words[2]" = $argv[1]',
    'end',
    'function __mtls_edge_needs_step',
    '    test (count (commandline -opc)) -eq 2',
    'end',
    'complete -c mtls-edge -f',
    "complete -c mtls-edge -n __mtls_edge_needs_command -s h -l help -d 'show help'",
    "complete -c mtls-edge -n __mtls_edge_needs_command -l version -d 'show the version'",
  ];
  for (const c of commands) {
    lines.push(`complete -c mtls-edge -n __mtls_edge_needs_command -a ${c.name} -d ${fishQuoted(c.summary)}`);
  }
  for (const c of commands) {
    const when = `-n ${fishQuoted(`__mtls_edge_command_is ${c.name}`)}`;
    for (const [name, o] of Object.entries(c.options)) {
      const short = o.short ? ` -s ${o.short}` : '';
      const value =
        o.type === 'boolean'
          ? ''
          : o.value === 'FILE'
            ? ' -r -F'
            : o.value === 'DIR'
              ? " -x -a '(__fish_complete_directories)'"
              : o.choices
                ? ` -x -a ${fishQuoted(o.choices.join(' '))}`
                : ' -x';
      lines.push(`complete -c mtls-edge ${when}${short} -l ${name}${value} -d ${fishQuoted(o.description)}`);
    }
    lines.push(`complete -c mtls-edge ${when} -s h -l help -d 'show this help'`);
    if (typeof c.positionals === 'object') {
      const step = `-n ${fishQuoted(`__mtls_edge_command_is ${c.name}; and __mtls_edge_needs_step`)}`;
      for (const s of c.positionals.subcommands) {
        lines.push(`complete -c mtls-edge ${step} -a ${fishQuoted(s.name)} -d ${fishQuoted(s.description)}`);
      }
    }
    if (takesFiles(c)) lines.push(`complete -c mtls-edge ${when} -F`);
  }
  return lines.join('\n') + '\n';
}
