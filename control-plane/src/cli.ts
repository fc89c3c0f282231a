#!/usr/bin/env node
// The CLI's entry: the bundle (dist/mtls-edge.mjs, scripts/bundle.mjs) starts here. The commands are in cli/.
import { main } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mtls-edge: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
