// The `to` URL readings kept across reloads (config/route.ts) must not keep the file they were read from: a value
// js-yaml reads is a slice of the whole text, and a kept slice keeps every old version of the file alive.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expectOk, run, SERVER_CERT_LINES } from './fixture.js';
import { files, loadTestPems } from './resolve-fixture.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 2 ** 20;

before(loadTestPems);

/** A config whose file is ~`padMiB` MiB of comment, with a `to` URL no earlier test used. */
function paddedConfig(padMiB: number, port: number): string {
  const comment = `# ${'x'.repeat(1022)}\n`.repeat(padMiB * 1024);
  return (
    comment +
    SERVER_CERT_LINES +
    `routes:\n  - from: https://kept.example.com\n    to: http://kept-${port}.internal:${port}/app\n` +
    '    allow_public_unauthenticated_access: true\n'
  );
}

test('a URL reading kept for the next reload does not keep the text of the file it came from', () => {
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 4; i++) expectOk(run(paddedConfig(8, 20_000 + i), { files: files() }));
  // V8 keeps the last text a regular expression ran on (for RegExp.lastMatch): one file, until the next match.
  /a/.exec('a');
  gc();
  const kept = (process.memoryUsage().heapUsed - before) / MiB;
  // Four files of 8 MiB each were read; their URLs are kept, the files must not be.
  assert.ok(kept < 8, `the heap grew by ${kept.toFixed(1)} MiB after reading four 8 MiB files`);
});
