// The command line as a person meets it (issue 15, point 2): help and the version on stdout with exit 0, mistakes
// on stderr with exit 2 and where the help is, `validate` without a config, `validate --json`, errors in reading
// order with columns, and ./bin/mtls-edge.js run from another folder finding the Envoy `npm run setup` installed.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_COMMANDS } from '../../control-plane/src/cli/builtin-commands.js';
import { startEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mtls-edge.js');
/** No option variables, no MTLS_EDGE_CONFIG, no ENVOY_BINARY: what a new user's shell has. */
const PLAIN_ENV = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: process.env['HOME'] ?? '/root' };

function cli(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: o.cwd ?? tmpdir(),
      env: { ...PLAIN_ENV, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('mtls-edge: help, version and mistakes', () => {
  it('prints the list of commands on stdout and exits 0 for --help, -h, help and no arguments', async () => {
    for (const args of [['--help'], ['-h'], ['help'], []]) {
      const res = await cli(args);
      assert.equal(res.code, 0, args.join(' '));
      assert.equal(res.stderr, '', args.join(' '));
      assert.match(res.stdout, /^usage: mtls-edge <command> \[options\]/);
      for (const c of ALL_COMMANDS) assert.match(res.stdout, new RegExp(`\\n  ${c.name} +\\S`), c.name);
    }
  });

  it("shows a command's own help for help COMMAND, COMMAND --help and -h, with each of its options", async () => {
    for (const c of ALL_COMMANDS) {
      const forms = await Promise.all([cli(['help', c.name]), cli([c.name, '--help']), cli([c.name, '-h'])]);
      for (const res of forms) {
        assert.equal(res.code, 0, c.name);
        assert.equal(res.stderr, '', c.name);
        assert.equal(res.stdout, forms[0].stdout, `${c.name}: the three forms print the same help`);
      }
      const help = forms[0].stdout;
      assert.match(help, new RegExp(`^usage: mtls-edge ${c.name}\\b`));
      for (const name of Object.keys(c.options)) assert.match(help, new RegExp(`--${name}\\b`), `${c.name} --${name}`);
    }
    const certs = (await cli(['certs', '--help'])).stdout;
    for (const step of ['ca', 'server NAME...', 'client IDENTITY', 'crl', 'control-plane', 'envoy', 'signing-key'])
      assert.match(certs, new RegExp(`\\n  ${step.replace(/\./g, '\\.')} `), `certs --help lists ${step}`);
  });

  it('prints its version and the Envoy release it is built for', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const envoy = readFileSync(join(ROOT, 'envoy', 'VERSION'), 'utf8').trim();
    for (const args of [['--version'], ['version']]) {
      const res = await cli(args);
      assert.equal(res.code, 0);
      assert.equal(res.stdout, `mtls-edge ${pkg.version} (Envoy ${envoy}, Node.js ${process.versions.node})\n`);
    }
  });

  it('says what is wrong and where the help is, on stderr with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['bogus'], /^mtls-edge: unknown command "bogus"\. Run 'mtls-edge help' for the list\.\n$/],
      [['valid'], /unknown command "valid"\. Did you mean 'validate'\?/],
      [['validate', '--dir', 'x'], /^mtls-edge validate: unknown option --dir\nRun 'mtls-edge help validate'/],
      [['validate', '--config'], /^mtls-edge validate: --config needs a value\n/],
      [['validate', '--json=yes', '-c', 'x.yaml'], /^mtls-edge validate: --json takes no value\n/],
      [['validate', 'extra.yaml'], /^mtls-edge validate: validate takes no arguments, got "extra\.yaml"/],
      [['run', '-c', 'x.yaml', '--xds-protocol', 'grpc'], /--xds-protocol must be sotw or delta, not "grpc"/],
      [['run', '-c', 'x.yaml', '--envoy-concurrency', 'two'], /--envoy-concurrency must be a number, not "two"/],
      [['--config', 'x.yaml', 'run'], /the command comes first, then its options/],
      [['help', 'nosuch'], /unknown command "nosuch"/],
      [['completion', 'tcsh'], /^mtls-edge completion: which shell\? completion takes one of bash, zsh, fish/],
    ];
    for (const [args, message] of cases) {
      const res = await cli(args);
      assert.equal(res.code, 2, args.join(' '));
      assert.equal(res.stdout, '', args.join(' '));
      assert.match(res.stderr, message, args.join(' '));
    }
  });

  it('`validate` without a config says --config is needed, or reads options from the environment', async () => {
    const none = await cli(['validate']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^mtls-edge validate: a config is needed: --config FILE \(or MTLS_EDGE_CONFIG=FILE/);
    const fromEnv = await cli(['validate'], { env: { ROUTES: '[{from: "https://a.example", to: "http://b"}]' } });
    assert.equal(fromEnv.code, 1, 'an environment-only config is read, and this one lacks a certificate');
    assert.match(fromEnv.stderr, /no server certificate/);
  });
});

describe('mtls-edge validate: errors in reading order, and --json', () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
    writeFileSync(join(pki.dir, 'bad.yaml'), badYaml);
  });

  // Certificates are read before routes, so the certificate error (last line) is found first.
  const badYaml = [
    'client_ca_file: ca-a.pem',
    'routes:',
    '  - from: not a url',
    '    to: http://127.0.0.1:1',
    '    allow_any_authenticated_user: true',
    'certificate_file: no-such.pem',
    'certificate_key_file: server-key.pem',
  ].join('\n');

  it('lists every error as file:line:column: key: message, sorted by line', async () => {
    const res = await cli(['validate', '--config', 'bad.yaml'], { cwd: pki.dir });
    assert.equal(res.code, 1);
    const lines = res.stderr.trim().split('\n').slice(1);
    const file = join(pki.dir, 'bad.yaml');
    assert.match(lines[0]!, new RegExp(`^  ${file}:3:5: routes\\[0\\]\\.from: not a URL`));
    assert.match(lines[lines.length - 1]!, new RegExp(`^  ${file}:6:1: certificate_file: `));
  });

  it('--json prints the errors, or a summary, as one JSON object on stdout', async () => {
    const bad = await cli(['validate', '--json', '-c', 'bad.yaml'], { cwd: pki.dir });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, '');
    const parsed = JSON.parse(bad.stdout) as { ok: boolean; errors: Array<Record<string, unknown>> };
    assert.equal(parsed.ok, false);
    assert.deepEqual(
      parsed.errors.map((e) => [e['line'], e['column'], e['key']]),
      [
        [3, 5, 'routes[0].from'],
        [6, 1, 'certificate_file'],
      ],
    );
    assert.ok(parsed.errors.every((e) => e['file'] === join(pki.dir, 'bad.yaml') && typeof e['message'] === 'string'));
    const goodYaml = `certificate_file: server.pem\ncertificate_key_file: server-key.pem\nclient_ca_file: ca-a.pem
routes:\n  - from: https://${HOSTS.x}\n    to: http://127.0.0.1:1\n    allow_any_authenticated_user: true\n`;
    writeFileSync(join(pki.dir, 'good.yaml'), goodYaml);
    const good = await cli(['validate', '--json', '-c', 'good.yaml'], { cwd: pki.dir });
    assert.equal(good.code, 0, good.stderr);
    const summary = JSON.parse(good.stdout) as { ok: boolean; summary: { routes: number; hosts: number } };
    assert.equal(summary.ok, true);
    assert.equal(summary.summary.routes, 1);
    assert.equal(summary.summary.hosts, 1);
  });
});

describe('./bin/mtls-edge.js from another folder', () => {
  let pki: TestPki;
  let elsewhere: string;
  before(async () => {
    pki = await createTestPki();
    elsewhere = mkdtempSync(join(tmpdir(), 'mtls-edge-elsewhere-'));
  });
  after(() => rmSync(elsewhere, { recursive: true, force: true }));

  it('run starts the Envoy `npm run setup` installed, with no envoy on PATH and no ENVOY_BINARY', async () => {
    const edge = await startEdge({
      dir: pki.dir,
      yaml: `certificate_file: server.pem\ncertificate_key_file: server-key.pem
routes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
      env: { ...PLAIN_ENV, ENVOY_BINARY: '' },
      cwd: elsewhere,
    });
    try {
      const res = await httpsGet({
        port: edge.httpsPort,
        servername: HOSTS.z,
        ca: pki.caA,
        path: '/.mtls-edge/healthz',
      });
      assert.equal(res.status, 200, 'Envoy answers');
      assert.match(edge.output(), /"msg":"envoy started"/);
      assert.match(edge.output(), /"binary":"[^"]*\/node_modules\/\.bin\/envoy"/, 'the Envoy beside the build');
    } finally {
      await edge.stop();
    }
  });
});

describe('a build in progress, or none yet', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-build-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bin/mtls-edge.js in a clone never built says how to build, instead of a module-not-found stack', () => {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(BIN, join(dir, 'bin', 'mtls-edge.js'));
    const res = spawnSync(process.execPath, [join(dir, 'bin', 'mtls-edge.js'), '--help'], { encoding: 'utf8' });
    assert.equal(res.status, 1);
    assert.equal(res.stdout, '');
    assert.equal(
      res.stderr,
      'mtls-edge is not built yet: run `npm run setup` in the clone (or `npm run build`), then try again.\n',
    );
  });

  it("the build's first step keeps the previous bundle: bin/mtls-edge.js runs while tsc and the bundler work", () => {
    mkdirSync(join(dir, 'dist', 'control-plane'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'mtls-edge.mjs'), '// the previous build\n');
    writeFileSync(join(dir, 'dist', 'control-plane', 'stale.js'), '');
    writeFileSync(join(dir, 'dist', 'mtls-edge.mjs.new'), '// a bundle cut short\n');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'clean-dist.mjs')], { cwd: dir });
    assert.deepEqual(readdirSync(join(dir, 'dist')), ['mtls-edge.mjs']);
    assert.equal(readFileSync(join(dir, 'dist', 'mtls-edge.mjs'), 'utf8'), '// the previous build\n');
  });
});
