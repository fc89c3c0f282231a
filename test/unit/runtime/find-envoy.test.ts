import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findEnvoy } from '../../../control-plane/src/runtime/find-envoy.js';

describe('findEnvoy: ENVOY_BINARY, then the Envoy `npm run setup` installed, then PATH', () => {
  let dir: string;
  const executable = (path: string) => {
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
    return path;
  };
  let explicit: string;
  let installed: string;
  let onPath: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-find-envoy-'));
    for (const d of ['explicit', 'installed', 'path']) mkdirSync(join(dir, d));
    explicit = executable(join(dir, 'explicit', 'envoy'));
    installed = executable(join(dir, 'installed', 'envoy'));
    onPath = executable(join(dir, 'path', 'envoy'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes each in that order', () => {
    const PATH = join(dir, 'path');
    assert.deepEqual(findEnvoy({ ENVOY_BINARY: explicit, PATH }, installed), { path: explicit, via: 'ENVOY_BINARY' });
    assert.deepEqual(findEnvoy({ PATH }, installed), { path: installed, via: 'npm run setup' });
    assert.deepEqual(findEnvoy({ PATH }, join(dir, 'nothing-here')), { path: onPath, via: 'PATH' });
  });

  it('says how to install it when there is none, and refuses an ENVOY_BINARY that is not executable', () => {
    const none = findEnvoy({ PATH: join(dir, 'nowhere') }, join(dir, 'nothing-here'));
    assert.ok('error' in none);
    assert.match(none.error, /Envoy not found: .* `npm run setup` installs it/);
    const bad = findEnvoy({ ENVOY_BINARY: join(dir, 'nothing-here'), PATH: join(dir, 'path') }, installed);
    assert.ok('error' in bad);
    assert.match(bad.error, /is not an executable file/);
  });
});
