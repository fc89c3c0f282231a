import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Config, RouteConfig } from '../../../control-plane/src/config/index.js';
import { jwksDocument, SigningKeys } from '../../../control-plane/src/runtime/signing-keys.js';

const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const at = { file: 'config.yaml', key: 'signing_key', line: 1 };
const config = (signingKey: string | undefined, passIdentityHeaders = false, others: string[] = []) =>
  ({
    sourceFile: 'config.yaml',
    signingKey: signingKey ? { pem: signingKey, others, at } : undefined,
    routes: [{ passIdentityHeaders } as RouteConfig],
  }) as Config;

describe('SigningKeys', () => {
  const kidsOf = (r: Awaited<ReturnType<SigningKeys['forConfig']>>) => {
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    return { signer: r.value.signer?.kid, published: r.value.published.map((k) => k.kid) };
  };

  it('publishes exactly the keys the config lists, the first signing; a rotation is two edits', async () => {
    const [a, b] = [pem(), pem()];
    const keys = new SigningKeys(undefined, {});
    const one = kidsOf(await keys.forConfig(config(a, true)));
    assert.deepEqual(one.published, [one.signer]);
    const both = kidsOf(await keys.forConfig(config(b, true, [a])));
    assert.equal(both.published.length, 2);
    assert.deepEqual(both.published, [both.signer, one.signer], 'the new key signs, the old one is still published');
  });

  it('a key the config drops leaves the JWKS at once (a leaked key must stop verifying), in one run too', async () => {
    const [a, b] = [pem(), pem()];
    const keys = new SigningKeys(undefined, {});
    const first = kidsOf(await keys.forConfig(config(a, true)));
    kidsOf(await keys.forConfig(config(b, true, [a])));
    const dropped = kidsOf(await keys.forConfig(config(b, true)));
    assert.deepEqual(dropped.published, [dropped.signer]);
    assert.ok(first.signer && !dropped.published.includes(first.signer));
    const swapped = kidsOf(await keys.forConfig(config(a, true)));
    assert.deepEqual(swapped.published, [first.signer], 'nothing remembered from the config before');
  });

  it('the same config gives the same keys in any process: replicas publish alike', async () => {
    const [a, b] = [pem(), pem()];
    const replica1 = new SigningKeys(undefined, {}, () => {}, true);
    const replica2 = new SigningKeys(undefined, {}, () => {}, true);
    kidsOf(await replica1.forConfig(config(a, true))); // replica 1 has seen another config before
    assert.deepEqual(
      kidsOf(await replica1.forConfig(config(b, true, [a]))),
      kidsOf(await replica2.forConfig(config(b, true, [a]))),
    );
    const r = await replica1.forConfig(config(b, true, [a]));
    assert.ok(r.ok);
    const doc = JSON.parse(jwksDocument(r.value.published)!) as { keys: Array<{ kid: string }> };
    assert.deepEqual(
      doc.keys.map((k) => k.kid),
      r.value.published.map((k) => k.kid),
    );
  });

  it('no key until a route passes identity headers; then one is generated, kept (0600) and reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signing-keys-'));
    const created: string[] = [];
    const keys = new SigningKeys(join(dir, 'config.yaml'), {}, (p) => created.push(p));
    const none = kidsOf(await keys.forConfig(config(undefined)));
    assert.deepEqual(none, { signer: undefined, published: [] });
    assert.equal(jwksDocument([]), undefined, 'no keys, no JWKS route');
    const first = kidsOf(await keys.forConfig(config(undefined, true)));
    assert.ok(first.signer);
    assert.deepEqual(first.published, [first.signer]);
    assert.deepEqual(created, [join(dir, '.mtls-edge', 'signing-key.pem')]);
    assert.equal(statSync(created[0]!).mode & 0o777, 0o600);
    const again = kidsOf(await new SigningKeys(join(dir, 'config.yaml'), {}).forConfig(config(undefined, true)));
    assert.equal(again.signer, first.signer);
  });

  it('a replica (--no-envoy) without signing_key refuses the config and says how to make one', async () => {
    const r = await new SigningKeys(undefined, {}, () => {}, true).forConfig(config(undefined, false));
    assert.ok(!r.ok);
    assert.equal(r.errors[0]!.key, 'signing_key');
    assert.match(r.errors[0]!.message, /set signing_key, SIGNING_KEY or signing_key_file/);
    assert.match(r.errors[0]!.message, /mtls-edge certs signing-key/);
  });

  it('a bad signing_key is a config error at its key, without the key in the message', async () => {
    const bad = 'not a key';
    const r = await new SigningKeys(undefined, {}).forConfig(config(bad));
    assert.ok(!r.ok);
    assert.equal(r.errors[0]!.key, 'signing_key');
    assert.ok(!r.errors[0]!.message.includes(bad));
  });
});
