// `npm run build`, before tsc: empties dist/ but for the bundle and the tests' artifacts, so that stale compiled files
// go while bin/mtls-edge.js can still run the previous build until scripts/bundle.mjs swaps in the new bundle whole.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// test-artifacts/: screenshots and the demo's screen, for people to look at after a test run.
const KEEP = new Set(['mtls-edge.mjs', 'test-artifacts']);
let names = [];
try {
  names = readdirSync('dist');
} catch {
  // No dist/ yet: nothing to clean.
}
for (const name of names) if (!KEEP.has(name)) rmSync(join('dist', name), { recursive: true, force: true });
