// `npm run build`, after tsc: bundles the compiled CLI and everything it imports into one file, dist/mtls-edge.mjs,
// which bin/mtls-edge.js, the tests, the benches and the image run. Node 20 resolves and reads each of the hundreds of
// modules of a tree (grpc-js, express, protobufjs…) one by one; one file loads in about half the time, and start-up
// is what issue 14 (point 3) measures. Not minified: stack traces stay readable, and minifying saved no load time.
//
// Usage: node scripts/bundle.mjs [PROJECT_ROOT] (the mutation runner bundles its mutated copy this way).
import { build } from 'esbuild';
import { resolve } from 'node:path';
import process from 'node:process';

const root = resolve(process.argv[2] ?? '.');

await build({
  absWorkingDir: root,
  entryPoints: ['dist/control-plane/src/cli.js'],
  outfile: 'dist/mtls-edge.mjs',
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
