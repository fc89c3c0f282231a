// compile() turns a valid config into a snapshot, or refuses it with an error value: it never throws for a value
// Envoy's API cannot carry, so a reload keeps the last good config (runtime/reloader.ts) instead of failing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceCodec, loadResourceRoot } from '../../../control-plane/src/envoy-api/index.js';
import { compile } from '../../../control-plane/src/pipeline.js';
import { SERVER_CERT_LINES, expectOk, loadPems, run, standardFiles, type Pems } from '../config/fixture.js';

let pems: Pems;
const codec = new ResourceCodec(loadResourceRoot());

before(async () => {
  pems = await loadPems();
});

function configWithHeader(value: string) {
  const yaml =
    `${SERVER_CERT_LINES}routes:\n  - from: https://a.example.com\n    to: http://127.0.0.1:8080\n` +
    `    set_request_headers:\n      x-team: ${value}\n    allow_public_unauthenticated_access: true\n`;
  return expectOk(run(yaml, { files: standardFiles(pems) }));
}

test('a well-formed header value compiles into a snapshot', () => {
  const compiled = compile(configWithHeader('"plain ✓"'), codec);
  assert.ok(compiled.ok, compiled.ok ? '' : JSON.stringify(compiled.errors));
  assert.ok(compiled.value.snapshot.version);
});

test('a lone surrogate (YAML "\\ud800") is refused with its path, not thrown and not sent as U+FFFD', () => {
  const config = configWithHeader('"x\\ud800y"');
  const header = config.routes[0]?.setRequestHeaders;
  assert.ok(
    JSON.stringify(header).includes('\\ud800'),
    `the YAML reader kept the surrogate: ${JSON.stringify(header)}`,
  );
  const compiled = compile(config, codec);
  assert.equal(compiled.ok, false);
  if (compiled.ok) return;
  assert.equal(compiled.errors.length, 1);
  const message = compiled.errors[0]!.message;
  assert.match(message, /cannot be sent to Envoy/);
  assert.match(message, /request_headers_to_add\[0\]\.header\.value: expected string, got string "x\\ud800y"/);
  assert.match(message, /lone surrogate/);
});
