// The CLI on a terminal: logs are pretty-printed by pino-pretty in a worker thread, which must load from the bundled
// CLI too (scripts/bundle.mjs keeps pino outside the bundle for it). No test ran with a terminal before, and the first
// bundle crashed there ("__dirname is not defined"). `script` (util-linux) gives the CLI a pseudo-terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { CLI } from '../support/edge.js';

/** pino-pretty's colours (ESC [ … m). */
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

it('on a terminal, run prints readable log lines, and a config error the usual way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-terminal-'));
  try {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'certificate_file: missing.pem\n');
    const quoted = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI, 'run', '--config', config, '--no-envoy'].map(quoted).join(' ');
    const res = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(res.error, undefined, 'script (util-linux) is required');
    const out = res.stdout.replace(COLOURS, '');
    assert.equal(res.status, 1, out);
    assert.match(out, /config\.yaml:1: certificate_file: cannot read file/);
    // pino-pretty's form, not JSON: "[12:34:56.789] ERROR: config rejected…"
    assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: config rejected; the last good config keeps serving/m);
    assert.doesNotMatch(out, /__dirname|"level":/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
