// `npm run build`, after tsc: bundles the compiled CLI and everything it imports into one file, dist/mtls-edge.mjs,
// which bin/mtls-edge.js, the tests, the benches and the image run. Node 20 resolves and reads each of the hundreds of
// modules of a tree (grpc-js, express, protobufjs…) one by one; one file loads in about half the time, and start-up
// is what issue 14 (point 3) measures. Not minified: stack traces stay readable, and minifying saved no load time.
//
// Usage: node scripts/bundle.mjs [PROJECT_ROOT] (the mutation runner bundles its mutated copy this way).
import { parse } from 'acorn';
import { build } from 'esbuild';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import process from 'node:process';

const root = resolve(process.argv[2] ?? '.');

await build({
  absWorkingDir: root,
  entryPoints: ['dist/control-plane/src/cli.js'],
  // Written beside the bundle and renamed over it at the end: bin/mtls-edge.js never sees half a file.
  outfile: 'dist/mtls-edge.mjs.new',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS packages in the bundle still call require() for Node's own modules.
  banner: {
    js:
      "import { createRequire as mtlsEdgeCreateRequire } from 'node:module';\n" +
      'const require = mtlsEdgeCreateRequire(import.meta.url);',
  },
  // Loaded from node_modules at run time: pino starts pino-pretty (on a terminal) in a worker thread by a file path
  // it builds from __dirname, which a bundled ES module does not have.
  external: ['pino', 'pino-pretty', 'thread-stream'],
  // Licences of the bundled packages stay with their code.
  legalComments: 'eof',
  logLevel: 'warning',
});

// V8 keeps the bundle's text for as long as the process runs, in one byte per character if every character is
// Latin-1 and two otherwise: one curly quote in a bundled package's comment doubled it, 3.7 MB more resident memory
// (issue 14, point 5). Such characters in comments become "?"; esbuild escapes those in code (its ASCII charset), and
// test/unit/architecture/bundle-text.test.ts fails should one be left.
const outfile = resolve(root, 'dist/mtls-edge.mjs.new');
const code = readFileSync(outfile, 'utf8');
const BEYOND_LATIN1 = /[\u0100-\uffff]/g;
if (/[\u0100-\uffff]/.test(code)) {
  const comments = [];
  parse(code, {
    ecmaVersion: 'latest',
    sourceType: 'module',
    allowHashBang: true,
    onComment: (_block, _text, start, end) => comments.push([start, end]),
  });
  let out = '';
  let at = 0;
  for (const [start, end] of comments) {
    out += code.slice(at, start) + code.slice(start, end).replace(BEYOND_LATIN1, '?');
    at = end;
  }
  writeFileSync(outfile, out + code.slice(at));
}

renameSync(outfile, resolve(root, 'dist/mtls-edge.mjs'));
