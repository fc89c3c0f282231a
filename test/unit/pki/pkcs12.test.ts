import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import {
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
} from '../../../control-plane/src/pki/index.js';
import { createPkcs12 } from '../../../control-plane/src/pki/pkcs12.js';
import { requireOpenssl } from '../../support/tools.js';

const PASSWORD = 'changeit';

// Shared fixtures: root → inter → inter2, a client directly under the root, one under inter2,
// and a loopback server certificate for the handshake tests.
const root = await createRootCa({ commonName: 'P12 Test Root' });
const inter = await createIntermediateCa(root, { commonName: 'P12 Test Intermediate' });
const inter2 = await createIntermediateCa(inter, { commonName: 'P12 Test Intermediate 2' });
const alice = await issueClientCertificate(root, { commonName: 'alice' });
const bob = await issueClientCertificate(inter2, { commonName: 'bob' });
const server = await issueServerCertificate(root, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });

const modern = await createPkcs12(alice.keyPem, alice.certPem, [], { password: PASSWORD, friendlyName: 'alice' });
const legacy = await createPkcs12(alice.keyPem, alice.certPem, [], {
  password: PASSWORD,
  friendlyName: 'alice',
  legacy: true,
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `openssl pkcs12 -in <p12> ...args`; -info output goes to stderr, so both are returned. */
function pkcs12(p12: Buffer, args: string[]): Run {
  const dir = mkdtempSync(join(tmpdir(), 'p12-test-'));
  try {
    const file = join(dir, 'f.p12');
    writeFileSync(file, p12);
    const r = spawnSync(requireOpenssl(), ['pkcs12', '-in', file, ...args], { encoding: 'utf8' });
    // A tool that could not run has no exit status: that must not pass for "openssl refused the file".
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readOk(p12: Buffer, args: string[]): string {
  const r = pkcs12(p12, args);
  assert.equal(r.status, 0, `openssl pkcs12 ${args.join(' ')} failed: ${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** DER (base64) of every certificate in openssl's PEM output, in order. */
function certsIn(text: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b).raw.toString('base64'));
}

function keyIn(text: string): string {
  const m = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(text);
  assert.ok(m, `no private key in output:\n${text}`);
  return m[0];
}

const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');

/** Asserts the extracted key is the original one and belongs to the extracted leaf. */
function assertKeyAndLeaf(text: string, issued: { keyPem: string; certPem: string }) {
  const leaf = new X509Certificate(issued.certPem);
  assert.equal(certsIn(text)[0], leaf.raw.toString('base64'));
  const key = createPrivateKey(keyIn(text));
  assert.ok(leaf.checkPrivateKey(key));
  assert.equal(key.export({ format: 'jwk' }).d, createPrivateKey(issued.keyPem).export({ format: 'jwk' }).d);
}

/**
 * Connects to a loopback node:tls server that requires a client certificate chaining to the
 * root. The server answers authorized clients with their certificate's fingerprint; with
 * rejectUnauthorized, others never reach the handler and the handshake fails.
 */
async function tlsExchange(clientOptions: tls.ConnectionOptions): Promise<{ reply: string; error?: string }> {
  const srv = tls.createServer(
    { key: server.keyPem, cert: server.certPem, ca: [root.certPem], requestCert: true, rejectUnauthorized: true },
    (socket) => socket.end(`authorized=${socket.authorized} ${socket.getPeerCertificate().fingerprint256}`),
  );
  srv.on('tlsClientError', () => {}); // expected in the negative case; the client sees the alert
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  try {
    return await new Promise<{ reply: string; error?: string }>((resolve) => {
      let reply = '';
      let error: string | undefined;
      const socket = tls.connect({ host: '127.0.0.1', port, ca: root.certPem, ...clientOptions });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (reply += chunk));
      socket.on('error', (err: Error) => (error = err.message));
      socket.on('close', () => resolve(error === undefined ? { reply } : { reply, error }));
    });
  } finally {
    await new Promise((resolve) => srv.close(resolve));
  }
}

test('modern: OpenSSL 3 reads it without -legacy and reports PBES2/PBKDF2/AES-256-CBC and a SHA-256 MAC', () => {
  const info = readOk(modern, ['-passin', `pass:${PASSWORD}`, '-info', '-noout']);
  const mac = /MAC: sha256, Iteration (\d+)/.exec(info);
  assert.ok(mac, info);
  assert.ok(Number(mac[1]) >= 2048);
  assert.match(info, /MAC length: 32/);
  const pbes2 = /PBES2, PBKDF2, AES-256-CBC, Iteration (\d+), PRF hmacWithSHA256/;
  assert.match(info, new RegExp(`PKCS7 Encrypted data: ${pbes2.source}`), 'certificates encrypted with PBES2');
  assert.match(info, new RegExp(`Shrouded Keybag: ${pbes2.source}`), 'key shrouded with PBES2');
  for (const m of info.matchAll(/Iteration (\d+)/g)) assert.ok(Number(m[1]) >= 2048, m[0]);
  assert.doesNotMatch(info, /RC2|TripleDES|MAC: sha1/);
});

test('modern: OpenSSL extracts the same certificate and a key matching it, paired by localKeyID', () => {
  const out = readOk(modern, ['-passin', `pass:${PASSWORD}`, '-nodes']);
  assert.deepEqual(certsIn(out), [der(alice.certPem)]);
  assertKeyAndLeaf(out, alice);
  // Key and certificate bags carry the same name and localKeyID (SHA-1 of the certificate).
  assert.equal(out.match(/friendlyName: alice$/gm)?.length, 2);
  const ids = [...out.matchAll(/localKeyID: ([0-9A-F ]+)/g)].map((m) => m[1]?.trim().replaceAll(' ', ':'));
  assert.deepEqual(ids, [
    new X509Certificate(alice.certPem).fingerprint,
    new X509Certificate(alice.certPem).fingerprint,
  ]);
});

test('modern: Node tls accepts the pfx and completes a handshake with it as the client certificate', async () => {
  assert.doesNotThrow(() => tls.createSecureContext({ pfx: modern, passphrase: PASSWORD }));

  const ok = await tlsExchange({ pfx: modern, passphrase: PASSWORD });
  assert.equal(ok.error, undefined);
  assert.equal(ok.reply, `authorized=true ${new X509Certificate(alice.certPem).fingerprint256}`);

  // Control: the same server turns away a client without a certificate.
  const anonymous = await tlsExchange({});
  assert.equal(anonymous.reply, '');
  assert.ok(anonymous.error, 'handshake without a client certificate should fail');
});

test('a wrong password is rejected by OpenSSL and Node', () => {
  const bad = pkcs12(modern, ['-passin', 'pass:wrong', '-info', '-noout']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Mac verify error/);
  assert.throws(() => tls.createSecureContext({ pfx: modern, passphrase: 'wrong' }), /mac verify failure/);
  assert.throws(() => tls.createSecureContext({ pfx: modern }), /mac verify failure/);

  const badLegacy = pkcs12(legacy, ['-legacy', '-passin', 'pass:wrong', '-info', '-noout']);
  assert.notEqual(badLegacy.status, 0);
  assert.match(badLegacy.stderr, /Mac verify error/);
});

test('legacy: OpenSSL 3 needs -legacy (RC2-40 certificates); with it, yields the certificate and key', () => {
  const without = pkcs12(legacy, ['-passin', `pass:${PASSWORD}`, '-info', '-noout']);
  assert.notEqual(without.status, 0, 'a legacy file must not be readable without the legacy provider');
  assert.match(without.stderr, /RC2-40-CBC/);

  const info = readOk(legacy, ['-legacy', '-passin', `pass:${PASSWORD}`, '-info', '-noout']);
  assert.match(info, /MAC: sha1, Iteration 2048/);
  assert.match(info, /PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC, Iteration 2048/);
  assert.match(info, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/);

  const out = readOk(legacy, ['-legacy', '-passin', `pass:${PASSWORD}`, '-nodes']);
  assert.deepEqual(certsIn(out), [der(alice.certPem)]);
  assertKeyAndLeaf(out, alice);
  assert.equal(out.match(/friendlyName: alice$/gm)?.length, 2);
});

test('chain certificates follow the leaf in order, without duplicates, and are sent in TLS', async () => {
  // bob.chainPem is bob + inter2 + inter; inter is given again and must appear once.
  const expected = [bob.certPem, inter2.certPem, inter.certPem].map(der);
  for (const isLegacy of [false, true]) {
    const p12 = await createPkcs12(bob.keyPem, bob.chainPem, [inter.certPem], { password: PASSWORD, legacy: isLegacy });
    const out = readOk(p12, [...(isLegacy ? ['-legacy'] : []), '-passin', `pass:${PASSWORD}`, '-nodes']);
    assert.deepEqual(certsIn(out), expected, isLegacy ? 'legacy' : 'modern');
    assertKeyAndLeaf(out, bob);
    // Only the leaf's bag is paired with the key.
    assert.equal(out.match(/localKeyID/g)?.length, 2);
  }

  // Same chain passed as separate entries, one of them a multi-certificate PEM.
  const p12 = await createPkcs12(bob.keyPem, bob.certPem, [inter2.chainPem], { password: PASSWORD });
  assert.deepEqual(certsIn(readOk(p12, ['-passin', `pass:${PASSWORD}`, '-nodes'])), expected);

  // The server trusts only the root, so this handshake works only if the pfx's chain is sent.
  const ok = await tlsExchange({ pfx: p12, passphrase: PASSWORD });
  assert.equal(ok.reply, `authorized=true ${new X509Certificate(bob.certPem).fingerprint256}`);
  const leafOnly = await createPkcs12(bob.keyPem, bob.certPem, [], { password: PASSWORD });
  const rejected = await tlsExchange({ pfx: leafOnly, passphrase: PASSWORD });
  assert.equal(rejected.reply, '');
});

test('friendlyName is optional', async () => {
  const p12 = await createPkcs12(alice.keyPem, alice.certPem, [], { password: PASSWORD });
  const out = readOk(p12, ['-passin', `pass:${PASSWORD}`, '-nodes']);
  assert.doesNotMatch(out, /friendlyName/);
  assert.equal(out.match(/localKeyID/g)?.length, 2);
});

test(
  'non-ASCII passwords are encoded as OpenSSL and Node expect ' +
    '(UTF-8 for PBES2, BMPString for the MAC and old PBEs)',
  async () => {
    const password = 'pässwört ☃ 𝄞'; // Latin-1, BMP and a surrogate pair
    const p12 = await createPkcs12(alice.keyPem, alice.certPem, [], { password });
    const out = readOk(p12, ['-passin', `pass:${password}`, '-nodes']);
    assertKeyAndLeaf(out, alice);
    assert.doesNotMatch(out, /broken|Warning/i);
    assert.doesNotThrow(() => tls.createSecureContext({ pfx: p12, passphrase: password }));

    const old = await createPkcs12(alice.keyPem, alice.certPem, [], { password, legacy: true });
    assertKeyAndLeaf(readOk(old, ['-legacy', '-passin', `pass:${password}`, '-nodes']), alice);
  },
);

test('salts and IVs are fresh for every file', async () => {
  const again = await createPkcs12(alice.keyPem, alice.certPem, [], { password: PASSWORD, friendlyName: 'alice' });
  assert.equal(again.length, modern.length);
  assert.notDeepEqual(again, modern);
});

test('rejects unusable input', async () => {
  const opts = { password: PASSWORD };
  await assert.rejects(createPkcs12(alice.keyPem, alice.certPem, [], { password: '' }), /non-empty/);
  await assert.rejects(createPkcs12(bob.keyPem, alice.certPem, [], opts), /does not match/);
  await assert.rejects(createPkcs12(alice.keyPem, alice.keyPem, [], opts), /no PEM certificate/);
  await assert.rejects(createPkcs12(alice.keyPem, alice.certPem, ['not a pem'], opts), /chain entry 0/);
  await assert.rejects(createPkcs12('not a key', alice.certPem, [], opts));
});
