// Reloads run one at a time, in the order they were asked for: reading the signing keys awaits (their thumbprints),
// and a newer edit whose keys happen to come first must not be overwritten by the older one after it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { Config } from '../../../control-plane/src/config/index.js';
import { loadResourceRoot, ResourceCodec } from '../../../control-plane/src/envoy-api/index.js';
import { ConfigReloader } from '../../../control-plane/src/runtime/reloader.js';
import { SigningKeys } from '../../../control-plane/src/runtime/signing-keys.js';
import { AdsServer } from '../../../control-plane/src/xds/server.js';
import { loadPems, type Pems } from '../config/fixture.js';

/** Signing keys that answer the first config slowly and the others at once, as a slow thumbprint could. */
class SlowFirstKeys extends SigningKeys {
  private calls = 0;
  override async forConfig(config: Config): ReturnType<SigningKeys['forConfig']> {
    const delay = this.calls++ === 0 ? 200 : 0;
    await new Promise((r) => setTimeout(r, delay));
    return super.forConfig(config);
  }
}

let dir: string;
let pems: Pems;
before(async () => {
  pems = await loadPems();
  dir = mkdtempSync(join(tmpdir(), 'mtls-edge-reloader-'));
  writeFileSync(join(dir, 'server.pem'), pems.serverCert);
  writeFileSync(join(dir, 'server-key.pem'), pems.serverKey);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const configWithUpstream = (port: number) =>
  'certificate_file: server.pem\ncertificate_key_file: server-key.pem\nroutes:\n' +
  `  - from: https://a.example.com\n    to: http://127.0.0.1:${port}\n    allow_public_unauthenticated_access: true\n`;

test('an older edit is never applied after a newer one, whichever reads its keys first', async () => {
  const path = join(dir, 'config.yaml');
  const log = pino({ level: 'silent' });
  const ads = new AdsServer(log);
  const keys = new SlowFirstKeys(path, {}, () => {}, false);
  const codec = new ResourceCodec(loadResourceRoot());
  const reloader = new ConfigReloader(
    path,
    {},
    () => codec,
    ads,
    log,
    () => {},
    false,
    keys,
  );

  writeFileSync(path, configWithUpstream(8081));
  const older = reloader.reload();
  // The first reload has read 8081 and waits for its keys when the edit to 8082 lands and is reloaded.
  await new Promise((r) => setTimeout(r, 50));
  writeFileSync(path, configWithUpstream(8082));
  const newer = reloader.reload();
  const [first, second] = await Promise.all([older, newer]);
  assert.ok(first.ok && second.ok);
  assert.match(JSON.stringify(first.config.routes), /8081/);
  assert.match(JSON.stringify(second.config.routes), /8082/);
  assert.notEqual(first.compiled.snapshot.version, second.compiled.snapshot.version);
  assert.equal(ads.current?.version, second.compiled.snapshot.version, 'the newer edit is what is served');
  await reloader.whenIdle();
});
