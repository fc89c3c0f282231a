// `mtls-edge completion bash|zsh|fish` (issue 15, point 2), loaded into the real shells: bash and fish are asked for
// completions as they would be at a prompt; zsh checks the script's syntax and calls its function with zsh's
// completion helpers recorded. bash, zsh and fish must be installed: the test fails, never skips, without them.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_COMMANDS } from '../../control-plane/src/cli/builtin-commands.js';

const BIN = fileURLToPath(new URL('../../../bin/mtls-edge.js', import.meta.url));

function requireShell(shell: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${shell}`]);
  if (found.status !== 0) throw new Error(`${shell} is needed by this test: apt-get install -y ${shell}`);
}

describe('mtls-edge completion', () => {
  let dir: string;
  const script = (shell: string) => {
    const path = join(dir, `completion.${shell}`);
    writeFileSync(path, execFileSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' }));
    return path;
  };
  before(() => {
    for (const shell of ['bash', 'zsh', 'fish']) requireShell(shell);
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-completion-'));
    // Files and a folder to complete: a config, a certificate, a folder of certificates.
    writeFileSync(join(dir, 'edge.yaml'), 'routes: []\n');
    writeFileSync(join(dir, 'client.pem'), '');
    mkdirSync(join(dir, 'certs'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** What bash completes for the words typed so far (the last one is being completed). */
  function bash(words: string[]): string[] {
    const path = script('bash');
    const program = [
      `source ${JSON.stringify(path)}`,
      `COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_mtls_edge',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const out = execFileSync('bash', ['-c', program], { cwd: dir, encoding: 'utf8' });
    return out.split('\n').filter(Boolean).sort();
  }

  it('bash: commands, options, option values, certs steps, help topics, shells and files', () => {
    const commands = ALL_COMMANDS.map((c) => c.name);
    assert.deepEqual(bash(['mtls-edge', '']), [...commands, '--help', '--version', '-h'].sort());
    assert.deepEqual(bash(['mtls-edge', 'va']), ['validate']);
    assert.deepEqual(bash(['mtls-edge', 'validate', '--']), ['--config', '--help', '--json']);
    assert.deepEqual(bash(['mtls-edge', 'run', '--xds-protocol', '']), ['delta', 'sotw']);
    assert.deepEqual(bash(['mtls-edge', 'run', '--config', 'ed']), ['edge.yaml']);
    assert.deepEqual(bash(['mtls-edge', 'validate', '-c', 'ed']), ['edge.yaml']);
    assert.deepEqual(bash(['mtls-edge', 'certs', '--dir', 'c']), ['certs']);
    assert.deepEqual(bash(['mtls-edge', 'certs', 's']), ['server', 'signing-key']);
    assert.deepEqual(bash(['mtls-edge', 'certs', 'crl', 'cl']), ['client.pem']);
    assert.deepEqual(bash(['mtls-edge', 'help', 'v']), ['validate', 'verify-app']);
    assert.deepEqual(bash(['mtls-edge', 'completion', '']), ['bash', 'fish', 'zsh']);
    assert.deepEqual(bash(['mtls-edge', 'bootstrap', '--xds-c']), [
      '--xds-ca',
      '--xds-client-cert',
      '--xds-client-key',
    ]);
  });

  /** What fish completes for the command line typed so far (`complete -C`), names only. */
  function fish(line: string): string[] {
    const path = script('fish');
    const out = execFileSync(
      'fish',
      ['--no-config', '-c', `source ${JSON.stringify(path)}; complete -C ${JSON.stringify(line)}`],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]!)
      .sort();
  }

  it('fish: commands with their summaries, options, values, steps and files', () => {
    const commands = ALL_COMMANDS.map((c) => c.name);
    assert.deepEqual(fish('mtls-edge '), [...commands].sort());
    const described = execFileSync(
      'fish',
      ['--no-config', '-c', `source ${JSON.stringify(script('fish'))}; complete -C "mtls-edge va"`],
      { encoding: 'utf8' },
    );
    assert.equal(described.trim(), `validate\t${ALL_COMMANDS.find((c) => c.name === 'validate')!.summary}`);
    assert.deepEqual(fish('mtls-edge validate --'), ['--config', '--help', '--json']);
    assert.deepEqual(fish('mtls-edge run --xds-protocol '), ['delta', 'sotw']);
    assert.deepEqual(fish('mtls-edge run --config ed'), ['edge.yaml']);
    assert.deepEqual(fish('mtls-edge certs s'), ['server', 'signing-key']);
    // certs' `envoy` step is not the envoy command: its options are certs' own.
    assert.ok(fish('mtls-edge certs envoy --').includes('--fleet'));
    assert.ok(!fish('mtls-edge certs envoy --').includes('--seconds'));
    assert.deepEqual(fish('mtls-edge completion '), ['bash', 'fish', 'zsh']);
  });

  it('zsh: the script parses, registers itself with compinit, and offers what the table says', () => {
    const path = script('zsh');
    const syntax = spawnSync('zsh', ['-n', path], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    const registered = execFileSync(
      'zsh',
      [
        '-f',
        '-c',
        `autoload -Uz compinit && compinit -u -D; source ${JSON.stringify(path)}; print -r -- $_comps[mtls-edge]`,
      ],
      { encoding: 'utf8', cwd: dir },
    );
    assert.equal(registered.trim(), '_mtls_edge');
    // zsh's helpers stand in recorders: the function's choices are what it hands them.
    const record = (words: string[], current: number) =>
      execFileSync(
        'zsh',
        [
          '-f',
          '-c',
          [
            `source ${JSON.stringify(path)} 2>/dev/null`,
            '_describe() { shift 2 2>/dev/null; local name=${@[-1]}; print -rl -- "describe:${(P@)name}" }',
            '_arguments() { print -rl -- "arguments:$@" }',
            `words=(${words.map((w) => JSON.stringify(w)).join(' ')}); CURRENT=${current}; PREFIX=""`,
            '_mtls_edge',
          ].join('\n'),
        ],
        { encoding: 'utf8', cwd: dir },
      );
    const top = record(['mtls-edge', ''], 2);
    for (const c of ALL_COMMANDS) assert.ok(top.includes(`${c.name}:${c.summary}`), `zsh lists ${c.name}`);
    const run = record(['mtls-edge', 'run', ''], 3);
    assert.match(run, /--xds-protocol\[[^\]]*\]:protocol:\(sotw delta\)/);
    assert.match(run, /\(-c --config\)-c\[[^\]]*\]:file:_files/);
    // A colon in the value's name would end _arguments' message: HOST:PORT is escaped.
    const address = record(['mtls-edge', 'verify-app', ''], 3);
    assert.match(address, /--address\[[^\]]*\]:host\\:port: /);
    const steps = record(['mtls-edge', 'certs', ''], 3);
    assert.ok(steps.includes('signing-key:'), steps);
  });
});
