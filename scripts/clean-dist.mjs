// `npm run build`, before tsc: empties dist/ but for the bundle, so that stale compiled files go while
// bin/mtls-edge.js can still run the previous build until scripts/bundle.mjs swaps in the new bundle whole.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const KEEP = new Set(['mtls-edge.mjs']);
let names = [];
try {
  names = readdirSync('dist');
} catch {
  // No dist/ yet: nothing to clean.
}
for (const name of names) if (!KEEP.has(name)) rmSync(join('dist', name), { recursive: true, force: true });
