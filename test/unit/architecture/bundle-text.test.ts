// V8 keeps the bundle's text in memory for the life of the process, one byte per character only while every
// character is Latin-1 (scripts/bundle.mjs says how it keeps it so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const BUNDLE = new URL('../../../mtls-edge.mjs', import.meta.url);

test('the bundled CLI is Latin-1 text: V8 holds it in one byte per character', () => {
  const lines = readFileSync(BUNDLE, 'utf8').split('\n');
  const wide = lines.flatMap((line, i) => (/[\u0100-\uffff]/.test(line) ? [`${i + 1}: ${line.trim()}`] : []));
  assert.deepEqual(wide, [], 'lines with characters beyond Latin-1 (escape them, or see scripts/bundle.mjs)');
});
