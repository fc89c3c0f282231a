// The CLI on a terminal: logs are pretty-printed by pino-pretty in a worker thread, which must load from the bundled
// CLI too (scripts/bundle.mjs keeps pino outside the bundle for it). No test ran with a terminal before, and the first
// bundle crashed there ("__dirname is not defined"). `script` (util-linux) gives the CLI a pseudo-terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { CLI, shellQuoted, startEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS } from '../support/pki-fixture.js';
import { uniquePath } from '../support/seen.js';
import { startUpstream } from '../support/upstream.js';

/** pino-pretty's colours (ESC [ … m). */
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

it('on a terminal, run prints readable log lines, and a config error the usual way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-terminal-'));
  try {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'certificate_file: missing.pem\n');
    const command = [process.execPath, CLI, 'run', '--config', config, '--no-envoy'].map(shellQuoted).join(' ');
    const res = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(res.error, undefined, 'script (util-linux) is required');
    const out = res.stdout.replace(COLOURS, '');
    assert.equal(res.status, 1, out);
    assert.match(out, /config\.yaml:1:1: certificate_file: cannot read file/);
    // pino-pretty's form, not JSON: "[12:34:56.789] ERROR: config rejected…"
    assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: config rejected; the last good config keeps serving/m);
    assert.doesNotMatch(out, /__dirname|"level":/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("on a terminal, Envoy's access log entries are readable lines too (parsed there, not JSON)", async () => {
  const pki = await createTestPki();
  const up = await startUpstream('u');
  after(() => up.close());
  const edge = await startEdge({
    dir: pki.dir,
    terminal: true,
    yaml: `certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.x}
    to: ${up.url}
    allow_public_unauthenticated_access: true
`,
  });
  try {
    const path = uniquePath('/on-a-terminal');
    assert.equal((await httpsGet({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, path })).status, 200);
    const line = new RegExp(
      `^\\[[0-9:.]+\\] INFO: http-request GET ${HOSTS.x.replace(/\./g, '\\.')}${path} → 200$`,
      'm',
    );
    const shown = () => edge.output().replace(COLOURS, '').replace(/\r/g, '');
    const deadline = Date.now() + 10_000;
    while (!line.test(shown()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const out = shown();
    assert.match(out, line);
    assert.doesNotMatch(out, /"level":/);
  } finally {
    assert.equal(await edge.stop(), 0);
  }
});
