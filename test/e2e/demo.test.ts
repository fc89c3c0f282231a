// The demo as a person sees it (issue 15, point 1): in a real terminal (tmux), on free ports. Once the edge answers,
// the last thing on the screen is the block that says what to do; Envoy's start-up chatter stays out; a request is
// one line; Ctrl-C stops everything cleanly (exit 0, "demo stopped", no Envoy folder left). The screen is kept as
// a test artifact. tmux must be installed: the test fails, never skips, without it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/ports.js';
import { httpsGet } from '../support/https-client.js';
import { readmeBlocks } from '../support/readme-blocks.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEMO = join(ROOT, 'dist', 'control-plane', 'demo', 'demo.js');
const ARTIFACTS = join(ROOT, 'dist', 'test-artifacts');
const SOCKET = `mtls-edge-demo-test-${process.pid}`;
const IDENTITY = 'yourUsername@localhost.pomerium.io';

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
// -J: a line the terminal wrapped is one line again.
const screen = () => tmux('capture-pane', '-p', '-J', '-t', 'demo', '-S', '-500');

async function until(what: string, done: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms; the screen:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm run demo, in a terminal', () => {
  const ports: Record<string, number> = {};
  before(async () => {
    if (spawnSync('sh', ['-c', 'command -v tmux']).status !== 0)
      throw new Error('tmux is needed: apt-get install tmux');
    for (const name of ['edge', 'admin', 'envoyAdmin', 'app']) ports[name] = await freePort();
    const env = {
      ADDRESS: `127.0.0.1:${ports['edge']}`,
      ADMIN_ADDRESS: `127.0.0.1:${ports['admin']}`,
      ENVOY_ADMIN_ADDRESS: `127.0.0.1:${ports['envoyAdmin']}`,
      DEMO_APP_ADDRESS: `127.0.0.1:${ports['app']}`,
    };
    tmux(
      'new-session',
      '-d',
      '-s',
      'demo',
      '-x',
      '160',
      '-y',
      '60',
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    );
    tmux('set-option', '-t', 'demo', 'remain-on-exit', 'on');
    // bash waits out the Ctrl-C its child handles, then prints the child's exit status.
    const command = `cd ${JSON.stringify(ROOT)} && ${process.execPath} ${DEMO}; echo "exit status $?"`;
    tmux('respawn-pane', '-k', '-t', 'demo', `bash -c ${JSON.stringify(command)}`);
  });
  after(async () => {
    // A test that failed before its Ctrl-C leaves the demo running, and a demo whose terminal is killed under it
    // lingers: stop it as a person would first (a Ctrl-C to a finished demo does nothing), then the terminal.
    spawnSync('tmux', ['-L', SOCKET, 'send-keys', '-t', 'demo', 'C-c']);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const dead = spawnSync('tmux', ['-L', SOCKET, 'display', '-p', '-t', 'demo', '#{pane_dead}'], {
        encoding: 'utf8',
      });
      if (dead.status !== 0 || dead.stdout.trim() === '1') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  });

  it('ends its first screen with what to do, keeps Envoy quiet, logs one line a request, stops on Ctrl-C', async () => {
    await until('the demo says it is ready', () => screen().includes('mtls-edge demo: ready'));
    const first = screen();
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'demo-first-screen.txt'), first);
    const lines = first.split('\n').filter((l) => l.trim() !== '');
    const ready = lines.findIndex((l) => l.includes('mtls-edge demo: ready'));
    // The block is last: a rule, what runs where, the .p12 and its password, the curl lines, a rule.
    const block = lines.slice(ready - 1).join('\n');
    assert.match(lines[lines.length - 1]!, /^─+$/);
    assert.match(block, new RegExp(`https://verify\\.localhost\\.pomerium\\.io:${ports['edge']}/`));
    assert.match(block, new RegExp(`import certs/${IDENTITY}-client\\.p12 \\(password: changeit\\)`));
    assert.match(block, /curl --resolve .* --cert certs\/.*-client\.pem --key .* https:\/\/verify/);
    assert.match(block, new RegExp(`http://127\\.0\\.0\\.1:${ports['app']}`));
    // Before it, a handful of the control plane's own lines: none of Envoy's start-up chatter.
    assert.ok(ready < 15, `${ready} lines before the block:\n${first}`);
    assert.doesNotMatch(first, /statically linked extensions|work-in-progress|initializing epoch/);

    const res = await httpsGet({
      port: ports['edge']!,
      servername: 'verify.localhost.pomerium.io',
      ca: readFileSync(join(ROOT, 'certs', 'ca.pem'), 'utf8'),
      cert: readFileSync(join(ROOT, 'certs', `${IDENTITY}-client.pem`), 'utf8'),
      key: readFileSync(join(ROOT, 'certs', `${IDENTITY}-client-key.pem`), 'utf8'),
      path: '/one-line',
    });
    assert.equal(res.status, 200);
    // Without a certificate the guide's route says that one is missing, and what to do.
    const none = await httpsGet({
      port: ports['edge']!,
      servername: 'verify.localhost.pomerium.io',
      ca: readFileSync(join(ROOT, 'certs', 'ca.pem'), 'utf8'),
      path: '/no-certificate',
    });
    assert.equal(none.status, 403);
    assert.match(none.body, /Your browser did not send a client certificate/);
    assert.match(none.body, /Install the client certificate you were given/);
    // The README's two curl lines answer what their comments say (only the port is the test's).
    const quickStart = readmeBlocks().find((b) => b.lang === 'sh' && b.text.includes('curl $R'));
    assert.ok(quickStart, 'the README has no curl lines for the demo');
    const expected: string[] = [];
    const script = quickStart.text
      .replaceAll(':8443', `:${ports['edge']}`)
      .split('\n')
      .map((line) => {
        const said = /^(curl .*?)\s+# (\d{3}):/.exec(line);
        if (!said) return line;
        expected.push(said[2]!);
        return `${said[1]} -s -o /dev/null -w '%{http_code}\\n'`;
      })
      .join('\n');
    assert.equal(expected.length, 2);
    const answered = execFileSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(answered, expected);
    const request = /^\[[\d:.]+\] INFO: http-request GET verify\.localhost\.pomerium\.io\/one-line → 200$/m;
    await until('the request is logged', () => request.test(screen()), 10_000);
    const after = screen().split('\n');
    const at = after.findIndex((l) => request.test(l));
    assert.ok(after[at + 1] === undefined || !/^\s+[{"]/.test(after[at + 1]!), 'no fields under the request line');

    tmux('send-keys', '-t', 'demo', 'C-c');
    await until('the demo exits', () => tmux('display', '-p', '-t', 'demo', '#{pane_dead}').trim() === '1', 30_000);
    const last = screen();
    assert.match(last, /^exit status 0$/m);
    assert.match(last, /INFO: stopped/);
    assert.match(last, /demo stopped\n/);
    const uid = process.getuid?.() ?? 0;
    const home = join(tmpdir(), `mtls-edge-${uid}`, `envoy-127.0.0.1-${ports['envoyAdmin']}`);
    assert.ok(!existsSync(home), `${home} is gone`);
  });
});
