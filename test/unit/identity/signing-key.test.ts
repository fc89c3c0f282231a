import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultSigningKeyPath,
  loadOrCreateSigningKey,
  signingKeyFromPem,
} from '../../../control-plane/src/identity/index.js';

async function withDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'signing-key-test-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) assert.fail(r.error);
  return r.value;
}

/** A line of base64 from inside a PEM: a piece of key material that must never appear in messages. */
function keyBytesSample(pem: string): string {
  return pem.split('\n')[1]?.slice(0, 24) ?? assert.fail('empty PEM');
}

test('no key file: a P-256 key is generated and written as PKCS#8, mode 0600, in a new 0700 folder', () =>
  withDir(async (dir) => {
    const folder = join(dir, 'state', 'nested');
    const path = join(folder, 'signing-key.pem');
    const { key, created } = ok(await loadOrCreateSigningKey(path));
    assert.equal(created, true);

    const text = readFileSync(path, 'utf8');
    assert.match(text, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(text, key.privateKeyPem);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(folder), ['signing-key.pem'], 'no temporary file is left behind');

    const nodeKey = createPrivateKey(text);
    assert.equal(nodeKey.asymmetricKeyType, 'ec');
    assert.equal(nodeKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  }));

test('an existing key file is reused, not replaced', () =>
  withDir(async (dir) => {
    const path = join(dir, 'signing-key.pem');
    const first = ok(await loadOrCreateSigningKey(path));
    const before = readFileSync(path, 'utf8');
    const second = ok(await loadOrCreateSigningKey(path));
    assert.equal(second.created, false);
    assert.equal(second.key.kid, first.key.kid);
    assert.deepEqual(second.key.publicJwk, first.key.publicJwk);
    assert.equal(readFileSync(path, 'utf8'), before);
  }));

/**
 * RFC 7638, section 3, written out here rather than asked of the library the code uses: the required members of an EC
 * key (crv, kty, x, y) in lexicographic order, no white space, SHA-256, base64url without padding.
 */
function rfc7638EcThumbprint(x: string, y: string): string {
  const members = `{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`;
  return createHash('sha256').update(members, 'utf8').digest('base64url');
}

test('kid is the RFC 7638 thumbprint of the public key; the public JWK is for ES256 signatures', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = await signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const nodeJwk = createPublicKey(privateKey).export({ format: 'jwk' });
  assert.equal(key.kid, rfc7638EcThumbprint(nodeJwk.x!, nodeJwk.y!));
  assert.match(key.kid, /^[A-Za-z0-9_-]{43}$/, '32 bytes of SHA-256 in base64url, unpadded');
  assert.deepEqual(key.publicJwk, {
    kty: 'EC',
    crv: 'P-256',
    x: nodeJwk.x,
    y: nodeJwk.y,
    kid: key.kid,
    alg: 'ES256',
    use: 'sig',
  });
  assert.equal('d' in key.publicJwk, false, 'no private part in the public JWK');
});

test('a SEC1 ("EC PRIVATE KEY") file is accepted and kept as it is; the key is given as PKCS#8', () =>
  withDir(async (dir) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    const path = join(dir, 'key.pem');
    writeFileSync(path, sec1, { mode: 0o600 });
    const { key, created } = ok(await loadOrCreateSigningKey(path));
    assert.equal(created, false);
    assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.deepEqual(
      createPrivateKey(key.privateKeyPem).export({ format: 'jwk' }),
      privateKey.export({ format: 'jwk' }),
    );
    assert.equal(readFileSync(path, 'utf8'), sec1);
  }));

test('a file that is not a P-256 private key is an error naming the path, without key bytes, and is left alone', () =>
  withDir(async (dir) => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const encrypted = p256.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    }) as string;
    const publicOnly = p256.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const cases: Array<[string, string, RegExp]> = [
      ['garbage.pem', 'not a key at all\n', /not a PEM private key/],
      ['empty.pem', '', /not a PEM private key/],
      ['rsa.pem', rsa, /RSA.*P-256/],
      ['p384.pem', p384, /secp384r1.*P-256/],
      ['encrypted.pem', encrypted, /not a PEM private key.*unencrypted/],
      ['public.pem', publicOnly, /not a PEM private key/],
    ];
    for (const [name, text, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      const r = await loadOrCreateSigningKey(path);
      assert.equal(r.ok, false, name);
      if (r.ok) continue;
      assert.ok(r.error.startsWith(`${path}: `), r.error);
      assert.match(r.error, message);
      if (text.startsWith('-----'))
        assert.ok(!r.error.includes(keyBytesSample(text)), `${name}: key bytes in "${r.error}"`);
      assert.equal(readFileSync(path, 'utf8'), text, `${name} is not replaced`);
    }
  }));

test('signingKeyFromPem refuses keys other than P-256', async () => {
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await assert.rejects(signingKeyFromPem(ed), /ED25519.*P-256/);
  await assert.rejects(signingKeyFromPem('nope'), /not a PEM private key/);
});

test('a key that cannot be written is an error naming the path', () =>
  withDir(async (dir) => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const path = join(file, 'signing-key.pem');
    const r = await loadOrCreateSigningKey(path);
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.match(r.error, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot (read|write)`));
  }));

test('a folder in place of the key file is an error, not a new key', () =>
  withDir(async (dir) => {
    const path = join(dir, 'signing-key.pem');
    mkdirSync(path);
    const r = await loadOrCreateSigningKey(path);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /cannot read the signing key \(EISDIR\)/);
  }));

test('defaultSigningKeyPath: the state folder, else next to the config file, else the working folder', () => {
  assert.equal(
    defaultSigningKeyPath('/etc/edge/config.yaml', { MTLS_EDGE_STATE_DIR: '/var/lib/edge' }, '/cwd'),
    '/var/lib/edge/signing-key.pem',
  );
  assert.equal(
    defaultSigningKeyPath(undefined, { MTLS_EDGE_STATE_DIR: 'state' }, '/cwd'),
    '/cwd/state/signing-key.pem',
  );
  assert.equal(defaultSigningKeyPath('/etc/edge/config.yaml', {}, '/cwd'), '/etc/edge/.mtls-edge/signing-key.pem');
  assert.equal(
    defaultSigningKeyPath('conf/edge.yaml', { MTLS_EDGE_STATE_DIR: '' }, '/cwd'),
    '/cwd/conf/.mtls-edge/signing-key.pem',
  );
  assert.equal(defaultSigningKeyPath(undefined, {}, '/cwd'), '/cwd/.mtls-edge/signing-key.pem');
  assert.equal(defaultSigningKeyPath(undefined, {}), join(process.cwd(), '.mtls-edge', 'signing-key.pem'));
});
