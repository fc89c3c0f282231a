#!/usr/bin/env node
// Runs the bundled CLI (npm run build writes dist/mtls-edge.mjs; scripts/bundle.mjs says why one file). A build keeps
// the previous bundle until the new one is whole, so this runs during a build too; only a clone never built has none.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const bundle = new URL('../dist/mtls-edge.mjs', import.meta.url);
if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  process.stderr.write(
    'mtls-edge is not built yet: run `npm run setup` in the clone (or `npm run build`), then try again.\n',
  );
  process.exitCode = 1;
}
