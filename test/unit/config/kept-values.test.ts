// Values kept past the reload that read them must not keep the file they were read from: a value js-yaml reads is a
// slice of the whole text, and a kept slice keeps that version of the file alive (source/own-copy.ts). Kept: the `to`
// URL readings (config/route.ts, across reloads) and the addresses `run` started with (for its whole life).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Config } from '../../../control-plane/src/config/index.js';
import { expectOk, run, SERVER_CERT_LINES } from './fixture.js';
import { files, loadTestPems } from './resolve-fixture.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 2 ** 20;

before(loadTestPems);

/**
 * A config whose file is ~`padMiB` MiB of comment, with a `to` URL no earlier test used and addresses whose hosts are
 * long enough for V8 to slice them rather than copy them (13 characters or more).
 */
function paddedConfig(padMiB: number, port: number): string {
  const comment = `# ${'x'.repeat(1022)}\n`.repeat(padMiB * 1024);
  return (
    comment +
    `address: 10.128.100.200:${port}\nadmin_address: admin.kept.example.internal:${port}\n` +
    SERVER_CERT_LINES +
    `routes:\n  - from: https://kept.example.com\n    to: http://kept-${port}.internal:${port}/app\n` +
    '    allow_public_unauthenticated_access: true\n'
  );
}

/** Reads four 8 MiB configs and returns `keep` of each. */
function readFourFiles(keep: (config: Config) => unknown): unknown[] {
  const kept: unknown[] = [];
  for (let i = 0; i < 4; i++) kept.push(keep(expectOk(run(paddedConfig(8, 20_000 + i), { files: files() }))));
  return kept;
}

/**
 * Heap growth (MiB) after reading four 8 MiB configs and keeping `keep` of each. The reading is a function of its
 * own: a frame still running may hold the last file's text in a register.
 */
function heapGrowth(keep: (config: Config) => unknown): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = readFourFiles(keep);
  // V8 keeps the last text a regular expression ran on (for RegExp.lastMatch): one file, until the next match.
  /a/.exec('a');
  gc();
  const grew = (process.memoryUsage().heapUsed - before) / MiB;
  assert.equal(kept.length, 4);
  return grew;
}

test('a URL reading kept for the next reload does not keep the text of the file it came from', () => {
  // The readings are kept by the config stage itself; the test keeps nothing.
  const grew = heapGrowth(() => undefined);
  assert.ok(grew < 8, `the heap grew by ${grew.toFixed(1)} MiB after reading four 8 MiB files`);
});

test('the addresses a run keeps do not keep the text of the file they came from', () => {
  const grew = heapGrowth((config) => [config.address, config.adminAddress]);
  assert.ok(grew < 8, `the heap grew by ${grew.toFixed(1)} MiB after keeping the addresses of four 8 MiB files`);
});
