// policy/ is a bottom vocabulary: config/, model/ and translate/ read it, it reads none of them (nor xds/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const POLICY_DIR = fileURLToPath(new URL('../../../../control-plane/src/policy/', import.meta.url));
const LAYERS_ABOVE = /from '\.\.\/(config|model|translate|xds)\//;

test('policy/ imports nothing from config/, model/, translate/ or xds/', () => {
  const files = readdirSync(POLICY_DIR).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 0);
  const offending = files.filter((f) => LAYERS_ABOVE.test(readFileSync(POLICY_DIR + f, 'utf8')));
  assert.deepEqual(offending, []);
});
