// The README does what it says: its guide's commands print what it shows, every config in it passes the schema
// and `validate`, and steps 2, 3 and 5 behave as written, through a real Envoy, the real verify app and curl.
// Only the ports change: the edge's address and the verify app's 127.0.0.1:8000 become free ports.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { runCli, shellQuoted, startEdge, type RunningEdge } from '../support/edge.js';
import { freePort } from '../support/ports.js';
import { ROOT, schemaErrorKey, schemaJudge } from '../support/config-corpus.js';
import { blockUnder, consoleSteps, readmeBlocks } from '../support/readme-blocks.js';
import { requireTool } from '../support/tools.js';

const blocks = readmeBlocks();
const IDENTITY = 'yourUsername@localhost.pomerium.io';
const CLIENT = `certs/${IDENTITY}-client`;
let dir: string;
let curl: string;
const stepOutputs: string[] = [];

before(() => {
  curl = requireTool('curl', 'Install it: apt-get install curl.');
  dir = mkdtempSync(join(tmpdir(), 'mtls-edge-readme-'));
  for (const step of consoleSteps(blockUnder(blocks, '1. Create the certificates', 'console'))) {
    const command = step.command.replace(
      /^\.\/bin\/mtls-edge\.js /,
      `${shellQuoted(join(ROOT, 'bin', 'mtls-edge.js'))} `,
    );
    stepOutputs.push(execFileSync('bash', ['-c', command], { cwd: dir, encoding: 'utf8' }));
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('step 1: each command prints the lines the README shows, in order', () => {
  const steps = consoleSteps(blockUnder(blocks, '1. Create the certificates', 'console'));
  assert.equal(steps.length, 3);
  steps.forEach((step, i) => {
    const printed = stepOutputs[i]!.split('\n');
    let at = 0;
    for (const line of step.shows) {
      const found = printed.indexOf(line, at);
      assert.ok(found >= 0, `"${step.command}" does not print ${JSON.stringify(line)}; it printed:\n${stepOutputs[i]}`);
      at = found + 1;
    }
  });
});

test('every config in the README passes the schema and `validate` ("config OK")', async () => {
  const configs = blocks.filter((b) => b.lang === 'yaml');
  assert.ok(configs.length >= 2);
  const judge = schemaJudge();
  for (const block of configs) {
    assert.match(block.text, /^# yaml-language-server: \$schema=config\.schema\.json\n/, block.heading);
    assert.deepEqual(judge(parse(block.text)).map(schemaErrorKey), [], block.heading);
    const path = join(dir, 'config.yaml');
    writeFileSync(path, block.text);
    const validated = await runCli(['validate', '--config', path]);
    assert.equal(validated.code, 0, `${block.heading}: ${validated.stdout}${validated.stderr}`);
    assert.match(validated.stdout, /^config OK/, block.heading);
  }
});

test('steps 2 and 5: the verify app greets you by email; with no certificate, a page says to install one', async () => {
  await withGuideConfig('2. Require mTLS for all routes', (edge) => {
    const greeted = fetchWithCurl(edge, 'verify', true);
    assert.equal(greeted.status, 200);
    assert.ok(greeted.body.includes(IDENTITY), 'the verify app does not show the certificate’s email');
    assert.doesNotMatch(greeted.body, /No client identity/);
    assertAsksForCertificate(fetchWithCurl(edge, 'verify', false));
  });
});

test('step 3: the route with a CA refuses a handshake without a certificate; the public one answers all', async () => {
  await withGuideConfig('3. Or require it per route', (edge) => {
    assert.ok(fetchWithCurl(edge, 'verify', true).body.includes(IDENTITY));
    // curl's code depends on when the refusal arrives: 35 (handshake), 56 (receive), 16 or 55 (send).
    assert.throws(
      () => fetchWithCurl(edge, 'verify', false),
      (e: { status?: number }) => [16, 35, 55, 56].includes(e.status ?? 0),
    );
    assert.equal(fetchWithCurl(edge, 'public', false).status, 200);
  });
});

/** Runs the verify app and the edge on the config under `heading`, as the guide says, on free ports. */
async function withGuideConfig(heading: string, body: (edge: RunningEdge) => void): Promise<void> {
  const appPort = await freePort();
  const yaml = blockUnder(blocks, heading, 'yaml')
    .text.replace(/^address: .*\n/m, '')
    .replaceAll('127.0.0.1:8000', `127.0.0.1:${appPort}`);
  const app = await startVerifyApp(appPort);
  let edge: RunningEdge | undefined;
  try {
    edge = await startEdge({ dir, yaml });
    await edge.waitForStatus((s) => s.synced);
    body(edge);
  } finally {
    await edge?.stop();
    await stopVerifyApp(app);
  }
}

function startVerifyApp(port: number): Promise<ChildProcess> {
  const app = spawn(join(ROOT, 'bin', 'mtls-edge.js'), ['verify-app', '--address', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      app.kill('SIGKILL');
      reject(new Error('verify-app did not say it listens within 20 s'));
    }, 20_000);
    app.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('verify app on')) {
        clearTimeout(timer);
        resolve(app);
      }
    });
    app.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`verify-app exited with ${code}`));
    });
  });
}

function stopVerifyApp(app: ChildProcess): Promise<void> {
  if (app.exitCode !== null || app.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    app.once('exit', () => resolve());
    app.kill('SIGTERM');
  });
}

function fetchWithCurl(edge: RunningEdge, host: string, withCertificate: boolean): { status: number; body: string } {
  const name = `${host}.localhost.pomerium.io`;
  const args = ['-sS', '--resolve', `${name}:${edge.httpsPort}:127.0.0.1`, '--cacert', 'certs/ca.pem'];
  if (withCertificate) args.push('--cert', `${CLIENT}.pem`, '--key', `${CLIENT}-key.pem`);
  args.push('-w', '\n%{http_code}', `https://${name}:${edge.httpsPort}/`);
  const out = execFileSync(curl, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

function assertAsksForCertificate(page: { status: number; body: string }): void {
  assert.ok(page.status === 403 || page.status === 495, `status ${page.status}`);
  assert.match(page.body, /client certificate/i);
  assert.match(page.body, /Install the client certificate you were given/);
}
