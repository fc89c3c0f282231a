import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
} from '../../control-plane/src/pki/index.js';
import { requireOpenssl } from '../support/tools.js';

/** Looked up per call, so that without openssl each test that uses it fails with how to install it. */
const openssl = () => requireOpenssl();
const DAY_MS = 24 * 3_600_000;

// Created once: key generation is cheap, but the chain is shared by most tests.
const root = await createRootCa({ commonName: 'Test Root CA' });
const inter = await createIntermediateCa(root, { commonName: 'Test Intermediate CA' });
const rootX = new X509Certificate(root.certPem);
const interX = new X509Certificate(inter.certPem);

function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
}

function withFiles<T>(files: Record<string, string>, fn: (path: (name: string) => string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pki-test-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return fn((name) => join(dir, name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('root CA is self-signed and a CA', () => {
  assert.equal(rootX.ca, true);
  assert.equal(rootX.subject, 'CN=Test Root CA');
  assert.equal(rootX.issuer, rootX.subject);
  assert.ok(rootX.checkIssued(rootX));
  assert.ok(rootX.verify(rootX.publicKey));
  assert.equal(root.isRoot, true);
  assert.equal(root.chainPem, root.certPem);
  assert.match(root.serialHex, /^[0-7][0-9a-f]{31}$/);
  assert.equal(root.cert.serialNumber, root.serialHex);
});

test('common names are taken literally', async () => {
  const name = 'Acme, Inc. "R&D" \\ #1';
  const ca = await createRootCa({ commonName: name });
  const text = withFiles({ 'ca.pem': ca.certPem }, (p) =>
    execFileSync(openssl(), ['x509', '-noout', '-subject', '-nameopt', 'utf8,sep_multiline', '-in', p('ca.pem')], {
      encoding: 'utf8',
    }),
  );
  assert.equal(text.trim().split('\n')[1]?.trim(), `CN=${name}`);
});

test('intermediate CA chains to the root', () => {
  assert.equal(interX.ca, true);
  assert.ok(interX.checkIssued(rootX));
  assert.ok(interX.verify(rootX.publicKey));
  assert.ok(!interX.verify(interX.publicKey));
  assert.equal(inter.isRoot, false);
  // The root is the trust anchor and never part of a chain.
  assert.deepEqual(pemBlocks(inter.chainPem), [inter.certPem]);
});

test('deeper chains list every intermediate, and pathLength is enforced', async () => {
  const inter2 = await createIntermediateCa(inter, { commonName: 'Second Intermediate', pathLength: 0 });
  assert.ok(new X509Certificate(inter2.certPem).checkIssued(interX));
  assert.deepEqual(pemBlocks(inter2.chainPem), [inter2.certPem, inter.certPem]);
  const leaf = await issueServerCertificate(inter2, { dnsNames: ['deep.example.test'] });
  assert.deepEqual(pemBlocks(leaf.chainPem), [leaf.certPem, inter2.certPem, inter.certPem]);

  const inter3 = await createIntermediateCa(inter2, { commonName: 'Too Deep' });
  const tooDeep = await issueServerCertificate(inter3, { dnsNames: ['deeper.example.test'] });
  withFiles({ 'root.pem': root.certPem, 'ok.pem': leaf.chainPem, 'bad.pem': tooDeep.chainPem }, (p) => {
    const verify = (chain: string): string =>
      execFileSync(openssl(), ['verify', '-CAfile', p('root.pem'), '-untrusted', p(chain), p(chain)], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    assert.match(verify('ok.pem'), /: OK/);
    assert.throws(() => verify('bad.pem'), /path length constraint exceeded/);
  });
});

test('server certificate has SANs, serverAuth and verifies against the intermediate', async () => {
  const server = await issueServerCertificate(inter, {
    dnsNames: ['app.example.test', '*.example.test'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const x = new X509Certificate(server.certPem);
  assert.equal(x.subject, 'CN=app.example.test');
  assert.equal(x.ca, false);
  assert.equal(
    x.subjectAltName,
    'DNS:app.example.test, DNS:*.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
  );
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.ok(x.checkIssued(interX));
  assert.ok(x.verify(interX.publicKey));
  assert.equal(x.checkHost('app.example.test'), 'app.example.test');
  assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.deepEqual(pemBlocks(server.chainPem), [server.certPem, inter.certPem]);
  assert.ok(x.checkPrivateKey(createPrivateKey(server.keyPem)));

  const out = withFiles({ 'root.pem': root.certPem, 'chain.pem': server.chainPem }, (p) =>
    execFileSync(
      openssl(),
      ['verify', '-purpose', 'sslserver', '-CAfile', p('root.pem'), '-untrusted', p('chain.pem'), p('chain.pem')],
      {
        encoding: 'utf8',
      },
    ),
  );
  assert.match(out, /: OK/);
});

test('client certificate has email SAN and clientAuth EKU', async () => {
  const client = await issueClientCertificate(inter, { commonName: 'alice', email: 'alice@example.test' });
  const x = new X509Certificate(client.certPem);
  assert.equal(x.subject, 'CN=alice');
  assert.equal(x.subjectAltName, 'email:alice@example.test');
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.ok(x.verify(interX.publicKey));
  assert.deepEqual(pemBlocks(client.chainPem), [client.certPem, inter.certPem]);
});

test('client certificate EKU can be serverAuth or absent', async () => {
  const server = await issueClientCertificate(root, { commonName: 'svc', extendedKeyUsage: 'serverAuth' });
  assert.deepEqual(new X509Certificate(server.certPem).keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const none = await issueClientCertificate(root, { commonName: 'any', extendedKeyUsage: 'none' });
  assert.equal(new X509Certificate(none.certPem).keyUsage, undefined);
  // Issued directly by the root: the chain is just the leaf.
  assert.deepEqual(pemBlocks(none.chainPem), [none.certPem]);
});

test('expired client certificate has validTo in the past and fails verification', async () => {
  const now = Date.now();
  // A CA valid long before the leaf, so -attime inside the leaf's window isolates the leaf's expiry.
  const oldRoot = await createRootCa({ commonName: 'Old Root', notBefore: new Date(now - 7 * DAY_MS) });
  const notAfter = new Date(now - DAY_MS);
  const expired = await issueClientCertificate(oldRoot, {
    commonName: 'expired',
    notBefore: new Date(now - 2 * DAY_MS),
    notAfter,
  });
  const x = new X509Certificate(expired.certPem);
  assert.ok(new Date(x.validTo).getTime() < now);
  assert.equal(new Date(x.validTo).getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);

  withFiles({ 'root.pem': oldRoot.certPem, 'leaf.pem': expired.certPem }, (p) => {
    const verify = (...extra: string[]): string =>
      execFileSync(openssl(), ['verify', ...extra, '-CAfile', p('root.pem'), p('leaf.pem')], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    assert.throws(() => verify(), /certificate has expired/);
    assert.match(verify('-attime', String(Math.floor((now - 1.5 * DAY_MS) / 1000))), /: OK/);
  });
});

test('CRL lists revoked serials and makes OpenSSL reject the revoked certificate', async () => {
  const revoked = await issueClientCertificate(inter, { commonName: 'revoked' });
  const good = await issueClientCertificate(inter, { commonName: 'good' });
  const crlPem = await createCrl(inter, [revoked.serialHex]);
  const rootCrl = await createCrl(root, []);
  assert.match(crlPem, /^-----BEGIN X509 CRL-----\n[\s\S]+\n-----END X509 CRL-----\n$/);

  withFiles(
    { 'crl.pem': crlPem, 'inter.pem': inter.certPem, 'root.pem': root.certPem, 'crls.pem': crlPem + rootCrl },
    (p) => {
      const text = execFileSync(openssl(), ['crl', '-noout', '-text', '-in', p('crl.pem')], { encoding: 'utf8' });
      assert.match(text, /Issuer: CN = Test Intermediate CA/);
      assert.ok(text.toLowerCase().includes(`serial number: ${revoked.serialHex}`), text);
      assert.doesNotMatch(text.toLowerCase(), new RegExp(good.serialHex));
      // BoringSSL (Envoy) refuses to load a CRL containing an empty SEQUENCE such as empty
      // crlEntryExtensions, although OpenSSL accepts it.
      const der = execFileSync(openssl(), ['asn1parse', '-in', p('crl.pem')], { encoding: 'utf8' });
      assert.doesNotMatch(der, /l= +0 cons: +SEQUENCE/);
      // The CRL's signature checks out against its issuer.
      execFileSync(openssl(), ['crl', '-noout', '-in', p('crl.pem'), '-CAfile', p('inter.pem')], { stdio: 'pipe' });

      const verify = (leafPem: string): string => {
        writeFileSync(p('leaf.pem'), leafPem);
        return execFileSync(
          openssl(),
          [
            'verify',
            '-crl_check_all',
            '-CRLfile',
            p('crls.pem'),
            '-CAfile',
            p('root.pem'),
            '-untrusted',
            p('inter.pem'),
            p('leaf.pem'),
          ],
          { encoding: 'utf8', stdio: 'pipe' },
        );
      };
      assert.match(verify(good.certPem), /: OK/);
      assert.throws(() => verify(revoked.certPem), /certificate revoked/);
    },
  );
});

test('CRL accepts serials in OpenSSL notation', async () => {
  const crlPem = await createCrl(root, ['00:8A:0B', 'ff', '0001']);
  const text = withFiles({ 'crl.pem': crlPem }, (p) =>
    execFileSync(openssl(), ['crl', '-noout', '-text', '-in', p('crl.pem')], { encoding: 'utf8' }),
  );
  for (const serial of ['8A0B', 'FF', '01']) assert.match(text, new RegExp(`Serial Number: ${serial}\\n`));
});

test('keyPem is PKCS#8 and matches certPem', async () => {
  const server = await issueServerCertificate(root, { dnsNames: ['localhost'] });
  for (const issued of [root, inter, server]) {
    assert.match(issued.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(new X509Certificate(issued.certPem).checkPrivateKey(createPrivateKey(issued.keyPem)));
  }
  assert.ok(!new X509Certificate(server.certPem).checkPrivateKey(createPrivateKey(root.keyPem)));
});
