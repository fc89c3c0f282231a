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
  it('signing_key is used; after a rotation the JWKS lists the new key and the one before it', () => {
    const keys = new SigningKeys(undefined, {});
    const a = keys.forConfig(config(pem()));
    assert.ok(a.ok && a.value);
    assert.deepEqual(
      keys.published().map((k) => k.kid),
      [a.value.kid],
    );
    const b = keys.forConfig(config(pem()));
    assert.ok(b.ok && b.value);
    assert.deepEqual(
      keys.published().map((k) => k.kid),
      [b.value.kid, a.value.kid],
    );
    const doc = JSON.parse(jwksDocument(keys.published())!) as { keys: Array<{ kid: string }> };
    assert.deepEqual(
      doc.keys.map((k) => k.kid),
      [b.value.kid, a.value.kid],
    );
  });

  it('no key until a route passes identity headers; then one is generated, kept (0600) and reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signing-keys-'));
    const created: string[] = [];
    const keys = new SigningKeys(join(dir, 'config.yaml'), {}, (p) => created.push(p));
    const none = keys.forConfig(config(undefined));
    assert.ok(none.ok && none.value === undefined);
    assert.equal(jwksDocument(keys.published()), undefined);
    const first = keys.forConfig(config(undefined, true));
    assert.ok(first.ok && first.value);
    assert.deepEqual(created, [join(dir, '.mtls-edge', 'signing-key.pem')]);
    assert.equal(statSync(created[0]!).mode & 0o777, 0o600);
    const again = new SigningKeys(join(dir, 'config.yaml'), {}).forConfig(config(undefined, true));
    assert.ok(again.ok && again.value?.kid === first.value.kid);
  });

  it("several keys: the first signs, all are published in the config's order; a rotation is an edit", () => {
    const [k1, k2, k3] = [pem(), pem(), pem()];
    const keys = new SigningKeys(undefined, {}, () => {}, true);
    const first = keys.forConfig(config(k1, true, [k2]));
    assert.ok(first.ok && first.value);
    const kids = () => keys.published().map((k) => k.kid);
    const [kid1, kid2] = kids();
    assert.equal(first.value.kid, kid1);
    assert.equal(kids().length, 2);
    // Rotate: the new key first, the old one kept while its JWTs live; then dropped.
    const rotated = keys.forConfig(config(k3, true, [k1]));
    assert.ok(rotated.ok && rotated.value);
    assert.deepEqual(kids(), [rotated.value.kid, kid1]);
    assert.ok(!kids().includes(kid2!), 'a replica publishes only what the config lists');
    keys.forConfig(config(k3, true));
    assert.deepEqual(kids(), [rotated.value.kid]);
  });

  it('a replica (--no-envoy) without signing_key refuses the config and says how to make one', () => {
    const r = new SigningKeys(undefined, {}, () => {}, true).forConfig(config(undefined, false));
    assert.ok(!r.ok);
    assert.equal(r.errors[0]!.key, 'signing_key');
    assert.match(r.errors[0]!.message, /set signing_key, SIGNING_KEY or signing_key_file/);
    assert.match(r.errors[0]!.message, /mtls-edge certs signing-key/);
  });

  it('a bad signing_key is a config error at its key, without the key in the message', () => {
    const bad = 'not a key';
    const r = new SigningKeys(undefined, {}).forConfig(config(bad));
    assert.ok(!r.ok);
    assert.equal(r.errors[0]!.key, 'signing_key');
    assert.ok(!r.errors[0]!.message.includes(bad));
  });
});
