import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createIntermediateCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import {
  certificateIdentity,
  clearIdentityCache,
  identityFromEnvoyCertificate,
  MAX_CACHED_IDENTITIES,
} from '../../../control-plane/src/identity/index.js';
import { EMAIL_COMMON_NAME_REGEX } from '../../../control-plane/src/translate/distinguished-name.js';
import { requireOpenssl } from '../../support/tools.js';
import { der, issueLeaf, testCa, unknownOtherName } from './certs.js';

/** What Envoy does to the PEM (ConnectionInfo::urlEncodedPemEncodedPeerCertificate). */
function envoyEncode(pem: string): string {
  return pem.replace(/[\n +/=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

test('a client certificate from the shared PKI: email from the SAN, user from the CN', async () => {
  const issued = await issueClientCertificate(await testCa(), { commonName: 'alice', email: 'alice@Example.COM' });
  const id = certificateIdentity(issued.certPem);
  assert.equal(id.commonName, 'alice');
  assert.equal(id.email, 'alice@Example.COM');
  assert.equal(id.domain, 'example.com');
  assert.equal(id.user, 'alice');
  assert.equal(id.subject, 'CN=alice');
  assert.equal(id.issuer, 'CN=Identity Test CA');
  assert.deepEqual(id.sans, { dns: [], email: ['alice@Example.COM'], uri: [], ip_address: [], user_principal_name: [] });
});

test('the email SAN wins over an email-like CN, and the first email SAN is taken', async () => {
  const leaf = await issueLeaf({
    subject: 'cn@cn.example',
    sans: [
      { type: 'email', value: 'first@san.example' },
      { type: 'email', value: 'second@san.example' },
    ],
  });
  const id = certificateIdentity(leaf.certPem);
  assert.equal(id.email, 'first@san.example');
  assert.equal(id.domain, 'san.example');
  assert.deepEqual(id.sans.email, ['first@san.example', 'second@san.example']);
});

test('without an email SAN, a CN that is an email address is the email', async () => {
  for (const cn of ['Bob@Example.ORG', 'bob@localhost', 'o\'neil+tag@sub.Example.org']) {
    const id = certificateIdentity((await issueLeaf({ subject: cn })).certPem);
    assert.equal(id.email, cn, cn);
    assert.equal(id.domain, cn.slice(cn.lastIndexOf('@') + 1).toLowerCase(), cn);
    assert.equal(id.user, cn, cn);
  }
});

test('a CN that is not an email address gives no email and no domain', async () => {
  for (const cn of ['carol', 'carol smith@example.com', 'a@b@example.com', '@example.com', 'carol@', 'carol@ example.com']) {
    const id = certificateIdentity((await issueLeaf({ subject: cn })).certPem);
    assert.equal(id.email, undefined, cn);
    assert.equal(id.domain, undefined, cn);
    assert.equal(id.user, cn, cn);
    assert.equal(id.commonName, cn, cn);
  }
});

test('user: the first UPN SAN, else the CN; nothing without either', async () => {
  const withUpn = certificateIdentity(
    (await issueLeaf({ subject: 'Dave', sans: [{ type: 'upn', value: 'dave@corp.example' }, { type: 'upn', value: 'other@corp.example' }] })).certPem,
  );
  assert.equal(withUpn.user, 'dave@corp.example');
  assert.deepEqual(withUpn.sans.user_principal_name, ['dave@corp.example', 'other@corp.example']);
  assert.equal(withUpn.email, undefined, 'a UPN is not an email address');

  const bare = certificateIdentity((await issueLeaf({ sans: [{ type: 'dns', value: 'device-7.example' }] })).certPem);
  assert.equal(bare.commonName, undefined);
  assert.equal(bare.user, undefined);
  assert.equal(bare.email, undefined);
  assert.equal(bare.subject, '');
  assert.deepEqual(bare.sans.dns, ['device-7.example']);
});

test('every SAN kind is read; kinds it cannot decode are skipped, not fatal', async () => {
  const leaf = await issueLeaf({
    subject: 'erin',
    sans: [
      { type: 'dns', value: 'a.example.com' },
      { type: 'email', value: 'erin@example.com' },
      { type: 'url', value: 'spiffe://example.com/erin' },
      { type: 'ip', value: '192.0.2.7' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'upn', value: 'erin@corp.example' },
      { type: 'guid', value: '8ee13e53-2c1c-42bb-8df7-39927c0bdbb6' },
      { type: 'dns', value: 'b.example.com' },
    ],
    // SmtpUTF8Mailbox (RFC 8398), an otherName the library cannot decode.
    rawSans: [unknownOtherName([1, 3, 6, 1, 5, 5, 7, 8, 9], 'erin@example.com')],
  });
  assert.deepEqual(certificateIdentity(leaf.certPem).sans, {
    dns: ['a.example.com', 'b.example.com'],
    email: ['erin@example.com'],
    uri: ['spiffe://example.com/erin'],
    ip_address: ['192.0.2.7', '2001:db8::1'],
    user_principal_name: ['erin@corp.example'],
  });
});

test('fingerprint is the lower-case hex SHA-256 of the DER, as Node computes it', async () => {
  const leaf = await issueLeaf({ subject: 'frank' });
  const id = certificateIdentity(leaf.certPem);
  const expected = new X509Certificate(leaf.certPem).fingerprint256.replace(/:/g, '').toLowerCase();
  assert.equal(id.fingerprint, expected);
  assert.match(id.fingerprint, /^[0-9a-f]{64}$/);
});

test('spkiHash is the base64 SHA-256 of the DER SubjectPublicKeyInfo', async () => {
  const leaf = await issueLeaf({ subject: 'grace' });
  const spki = leaf.publicKey.export({ type: 'spki', format: 'der' });
  const expected = createHash('sha256').update(spki).digest('base64');
  assert.equal(certificateIdentity(leaf.certPem).spkiHash, expected);
  const fromCert = new X509Certificate(leaf.certPem).publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(createHash('sha256').update(fromCert).digest('base64'), expected);
});

test('the leaf is the first certificate of a chain', async () => {
  const intermediate = await createIntermediateCa(await testCa(), { commonName: 'Identity Test Intermediate' });
  const issued = await issueClientCertificate(intermediate, { commonName: 'heidi', email: 'heidi@example.com' });
  const id = certificateIdentity(issued.chainPem);
  assert.equal(id.commonName, 'heidi');
  assert.equal(id.issuer, 'CN=Identity Test Intermediate');
  assert.equal(id.fingerprint, certificateIdentity(issued.certPem).fingerprint);
});

test('subject and issuer are RFC 2253 with most specific first and special characters escaped', async () => {
  const subject = new x509.Name([
    { DC: ['com'] },
    { DC: ['example'] },
    { C: ['DE'] },
    { O: [{ utf8String: 'Müller, Söhne & Co. <GmbH>' }] },
    { OU: [{ utf8String: 'a;b"c\\d' }] },
    { CN: [{ utf8String: ' #ivan+1 ' }] },
  ]);
  const leaf = await issueLeaf({ subject });
  const id = certificateIdentity(leaf.certPem);
  assert.equal(
    id.subject,
    'CN=\\ #ivan\\+1\\ ,OU=a\\;b\\"c\\\\d,O=M\\C3\\BCller\\, S\\C3\\B6hne & Co. \\<GmbH\\>,C=DE,DC=example,DC=com',
  );
  assert.equal(id.commonName, ' #ivan+1 ');
});

test('names print exactly as OpenSSL prints them with -nameopt RFC2253 (what Envoy logs)', async () => {
  const openssl = requireOpenssl();
  const subject = new x509.Name([
    { C: ['US'] },
    { ST: ['CA'], L: ['San Francisco'] },
    { O: [{ utf8String: 'Acme, Inc. é' }] },
    { '1.2.3.4': [{ utf8String: 'unknown type' }] },
    { E: ['judy@example.com'] },
    { CN: [{ utf8String: 'Judy "J" =Smith' }] },
  ]);
  const leaf = await issueLeaf({ subject });
  const dir = mkdtempSync(join(tmpdir(), 'identity-test-'));
  try {
    const file = join(dir, 'leaf.pem');
    writeFileSync(file, leaf.certPem);
    const out = execFileSync(openssl, ['x509', '-in', file, '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253'], { encoding: 'utf8' });
    const id = certificateIdentity(leaf.certPem);
    assert.equal(out, `subject=${id.subject}\nissuer=${id.issuer}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('text that is not a certificate is an error', () => {
  assert.throws(() => certificateIdentity(''), /no PEM certificate/);
  assert.throws(() => certificateIdentity('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /no PEM certificate/);
  assert.throws(() => certificateIdentity('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /does not parse/);
});

test("Envoy's URL-encoded certificate gives the same identity", async () => {
  clearIdentityCache();
  const leaf = await issueLeaf({ subject: 'kim', sans: [{ type: 'email', value: 'kim@example.com' }] });
  const direct = certificateIdentity(leaf.certPem);
  assert.deepEqual({ ...identityFromEnvoyCertificate(envoyEncode(leaf.certPem)) }, direct);
  assert.deepEqual({ ...identityFromEnvoyCertificate(encodeURIComponent(leaf.certPem)) }, direct);
  assert.equal(identityFromEnvoyCertificate(''), undefined);
  assert.throws(() => identityFromEnvoyCertificate('%E0%A4%A'), /URL-encoded/);
  assert.throws(() => identityFromEnvoyCertificate('not%20a%20certificate'), /no PEM certificate/);
});

test('identities are cached by encoded text, frozen, and the least recently used is evicted', async () => {
  clearIdentityCache();
  const encoded = envoyEncode((await issueLeaf({ subject: 'leo' })).certPem);
  // Distinct texts of the same certificate: anything after the PEM block is ignored.
  const key = (i: number): string => `${encoded}%0A${i}`;

  const first = identityFromEnvoyCertificate(key(0));
  assert.ok(first);
  assert.equal(identityFromEnvoyCertificate(key(0)), first, 'a second request is served from the cache');
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.sans) && Object.isFrozen(first.sans.dns));
  assert.throws(() => {
    (first as { user?: string }).user = 'mallory';
  }, TypeError);

  const second = identityFromEnvoyCertificate(key(1));
  // Fill the cache; touching key 0 halfway makes key 1 the least recently used.
  for (let i = 2; i < MAX_CACHED_IDENTITIES; i++) {
    if (i === MAX_CACHED_IDENTITIES / 2) assert.equal(identityFromEnvoyCertificate(key(0)), first);
    identityFromEnvoyCertificate(key(i));
  }
  identityFromEnvoyCertificate(key(MAX_CACHED_IDENTITIES)); // one over: evicts key 1
  assert.equal(identityFromEnvoyCertificate(key(0)), first, 'recently used: kept');
  assert.notEqual(identityFromEnvoyCertificate(key(1)), second, 'least recently used: parsed again');
  clearIdentityCache();
});

// ---- agreement with Envoy's view of the certificate ----
// Envoy's RBAC filter reads the same certificate through its formatters: the SANs of a kind joined with
// ",", the subject printed by BoringSSL's X509_NAME_print_ex(XN_FLAG_RFC2253). The expected strings
// below are what Envoy 1.40 printed for these very names.

/** A Name from raw attribute values: RDNs in DER order, each a list of [oid, DER tag, value]. */
function rawName(rdns: Array<Array<[string, number, string | Buffer]>>): x509.Name {
  const oid = (dotted: string): Buffer => {
    const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
    const bytes = [a * 40 + b];
    for (const arc of rest) {
      const groups: number[] = [];
      for (let v = arc; ; v = Math.floor(v / 128)) {
        groups.unshift(v & 0x7f);
        if (v < 128) break;
      }
      groups.forEach((g, i) => bytes.push(i < groups.length - 1 ? g | 0x80 : g));
    }
    return Buffer.from(bytes);
  };
  const atv = ([type, tag, value]: [string, number, string | Buffer]) =>
    der(0x30, Buffer.concat([der(0x06, oid(type)), der(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value)]));
  return new x509.Name(new Uint8Array(der(0x30, Buffer.concat(rdns.map((rdn) => der(0x31, Buffer.concat(rdn.map(atv))))))));
}
const CN = '2.5.4.3';
const UTF8 = 0x0c;

test('common names with characters RFC 2253 escapes: printed as Envoy prints them; an email only if a mail address', async () => {
  const cases: Array<[cn: string, subject: string, domain: string | undefined]> = [
    ['bob+x@contractors.example.com', 'CN=bob\\+x@contractors.example.com', 'contractors.example.com'],
    ['x=y@example.com', 'CN=x=y@example.com', 'example.com'],
    ['#a@b.example', 'CN=\\#a@b.example', 'b.example'],
    ["a.b!#$%&'*/=?^_`{|}~-@X-1.Example", "CN=a.b!#$%&'*/=?^_`{|}~-@X-1.Example", 'x-1.example'],
    ['jürgen@example.com', 'CN=j\\C3\\BCrgen@example.com', undefined],
    ['a@bücher.example', 'CN=a@b\\C3\\BCcher.example', undefined],
    ['x,CN=alice@example.com', 'CN=x\\,CN=alice@example.com', undefined],
    ['a,b;c@Example.org', 'CN=a\\,b\\;c@Example.org', undefined],
    ['q"<>\\@x.example', 'CN=q\\"\\<\\>\\\\@x.example', undefined],
    ['"alice"@example.com', 'CN=\\"alice\\"@example.com', undefined],
    ['𝔸@astral.example', 'CN=\\F0\\9D\\94\\B8@astral.example', undefined],
    ['c\x01tl\x7f@x.example', 'CN=c\\01tl\\7F@x.example', undefined],
    ['nul\x00@x.example', 'CN=nul\\00@x.example', undefined],
    ['nbsp\u00a0@x.example', 'CN=nbsp\\C2\\A0@x.example', undefined],
    ['a..b@x.example', 'CN=a..b@x.example', undefined],
    ['.a@x.example', 'CN=.a@x.example', undefined],
    ['a@x.example,evil', 'CN=a@x.example\\,evil', undefined],
    ['a@x_y.example', 'CN=a@x_y.example', undefined],
  ];
  for (const [cn, subject, domain] of cases) {
    const id = certificateIdentity((await issueLeaf({ subject: cn })).certPem);
    assert.equal(id.subject, subject, JSON.stringify(cn));
    assert.equal(id.commonName, cn, JSON.stringify(cn));
    assert.equal(id.email, domain === undefined ? undefined : cn, JSON.stringify(cn));
    assert.equal(id.domain, domain, JSON.stringify(cn));
    assert.equal(id.user, cn, JSON.stringify(cn));
  }
});

test('common names that are not email addresses: no "@", several, an empty part, or ASCII white space', async () => {
  const cases: Array<[cn: string, subject: string]> = [
    [' lead@x.example', 'CN=\\ lead@x.example'],
    ['trail@x.example ', 'CN=trail@x.example\\ '],
    ['a b@x.example', 'CN=a b@x.example'],
    ['a\tb@x.example', 'CN=a\\09b@x.example'],
    ['a@x.example\r\n', 'CN=a@x.example\\0D\\0A'],
    ['v\x0bt@x.example', 'CN=v\\0Bt@x.example'],
    ['f\x0cf@x.example', 'CN=f\\0Cf@x.example'],
    ['@x.example', 'CN=@x.example'],
    ['a@', 'CN=a@'],
    ['a@@b', 'CN=a@@b'],
    ['#', 'CN=\\#'],
    ['a#b', 'CN=a#b'],
    ['=', 'CN=='],
    [' ', 'CN=\\ '],
    ['  ', 'CN=\\ \\ '],
    ['é', 'CN=\\C3\\A9'],
  ];
  for (const [cn, subject] of cases) {
    const id = certificateIdentity((await issueLeaf({ subject: cn })).certPem);
    assert.equal(id.subject, subject, JSON.stringify(cn));
    assert.equal(id.email, undefined, JSON.stringify(cn));
    assert.equal(id.domain, undefined, JSON.stringify(cn));
    assert.equal(id.user, cn, JSON.stringify(cn));
  }
});

test('two common names: the most specific (last in the DER, first printed) is the one used', async () => {
  const subject = rawName([[[CN, UTF8, 'outer@x.example']], [['2.5.4.10', UTF8, 'Org, Inc']], [[CN, UTF8, 'inner@y.example']]]);
  const id = certificateIdentity((await issueLeaf({ subject })).certPem);
  assert.equal(id.subject, 'CN=inner@y.example,O=Org\\, Inc,CN=outer@x.example');
  assert.equal(id.commonName, 'inner@y.example');
  assert.equal(id.email, 'inner@y.example');
  assert.equal(id.domain, 'y.example');
  assert.equal(id.user, 'inner@y.example');

  // Most specific but not an email address: no email, although a less specific CN is one.
  const notEmail = certificateIdentity((await issueLeaf({ subject: rawName([[[CN, UTF8, 'outer@x.example']], [[CN, UTF8, 'inner']]]) })).certPem);
  assert.equal(notEmail.subject, 'CN=inner,CN=outer@x.example');
  assert.equal(notEmail.email, undefined);
  assert.equal(notEmail.user, 'inner');

  // A multi-valued RDN prints in reverse too, joined with "+".
  const multi = certificateIdentity((await issueLeaf({ subject: rawName([[['2.5.4.6', 0x13, 'DE']], [[CN, UTF8, 'a@b.example'], ['0.9.2342.19200300.100.1.1', UTF8, 'uid1']]]) })).certPem);
  assert.equal(multi.subject, 'UID=uid1+CN=a@b.example,C=DE');
  assert.equal(multi.email, 'a@b.example');
});

test("attribute types: BoringSSL's short names, dotted OIDs with #hex values for the types it does not know", async () => {
  const subject = rawName([
    [['2.5.4.97', UTF8, 'VATDE-123']], // organizationIdentifier: OpenSSL knows it, BoringSSL does not
    [['1.3.6.1.4.1.311.60.2.1.3', 0x13, 'DE']], // jurisdictionC
    [['2.5.4.20', 0x13, '+49 1']], // telephoneNumber
    [['0.9.2342.19200300.100.1.3', 0x16, 'm@x.example']], // mail
    [['1.2.840.113549.1.9.2', 0x16, 'host']], // unstructuredName
    [['1.3.6.1.5.5.7.9.1', 0x18, '19700101000000Z']], // dateOfBirth
    [['2.5.4.14', UTF8, 'g']], // searchGuide
    [[CN, 0x14, Buffer.from([0x61, 0xe9, 0x40, 0x62])]], // T61String: Latin-1
  ]);
  const id = certificateIdentity((await issueLeaf({ subject })).certPem);
  assert.equal(
    id.subject,
    'CN=a\\C3\\A9@b,searchGuide=g,id-pda-dateOfBirth=19700101000000Z,unstructuredName=host,mail=m@x.example,telephoneNumber=\\+49 1,1.3.6.1.4.1.311.60.2.1.3=#13024445,2.5.4.97=#0C0956415444452D313233',
  );
  assert.equal(id.commonName, 'aé@b');
});

// What Envoy's RBAC filter decides from the subject: the translator's regex, matched whole as Envoy does.
const ENVOY_CN_IS_EMAIL = new RegExp(`^(?:${EMAIL_COMMON_NAME_REGEX})$`);

test('a common name is an email address exactly when a regex over the RFC 2253 subject says so', async () => {
  const cns = [
    'bob+x@contractors.example.com', 'jürgen@example.com', 'x=y@example.com', '#a@b.example', 'a,b;c@x', 'q"<>\\@x', '𝔸@x',
    'c\x01tl\x7f@x', 'nbsp\u00a0@x', 'a@b', ' lead@x', 'trail@x ', 'a b@x', 'a\tb@x', 'a@x\n', 'v\x0bt@x', '@x', 'a@', 'a@@b',
    '#', '=', ' ', 'carol', 'C@x', 'CN@x', 'x,CN=alice@example.com', 'a@b.c,x', 'a@b.c+x', 'a.@b', '.a@b', 'a@b.', 'a@-b', 'a@b-',
    'a+b#c@d', '#@d', 'a@b\u0000', 'a\u0000@b', "!#$%&'*+/=?^_`{|}~-@x-y.z9", 'a@xn--bcher-kva.example', 'a@B\u212Aexample',
  ];
  const subjects: Array<(cn: string) => x509.Name> = [
    (cn) => rawName([[[CN, UTF8, cn]]]),
    (cn) => rawName([[['2.5.4.10', UTF8, 'CN=a@b, Inc']], [[CN, UTF8, cn]], [['2.5.4.11', UTF8, 'o@u']]]),
    (cn) => rawName([[[CN, UTF8, 'outer@x.example']], [[CN, UTF8, cn], ['2.5.4.4', UTF8, 's@n']]]),
    (cn) => rawName([[[CN, UTF8, cn]], [[CN, UTF8, 'inner']]]),
  ];
  for (const cn of cns) {
    for (const [i, make] of subjects.entries()) {
      const id = certificateIdentity((await issueLeaf({ subject: make(cn) })).certPem);
      assert.equal(ENVOY_CN_IS_EMAIL.test(id.subject), id.email !== undefined, `${JSON.stringify(cn)} in subject ${i}: ${id.subject}`);
    }
  }
});

test('names with escapes print exactly as OpenSSL prints them with -nameopt RFC2253', async () => {
  const openssl = requireOpenssl();
  const dir = mkdtempSync(join(tmpdir(), 'identity-test-'));
  try {
    const cns = ['bob+x@contractors.example.com', 'jürgen@example.com', 'x=y@example.com', '#a@b.example', ' lead ', 'a\tb', '𝔸;<>"\\'];
    for (const [i, cn] of cns.entries()) {
      const leaf = await issueLeaf({ subject: rawName([[[CN, UTF8, 'outer']], [['2.5.4.10', UTF8, 'O, Inc']], [[CN, UTF8, cn]]]) });
      const file = join(dir, `leaf-${i}.pem`);
      writeFileSync(file, leaf.certPem);
      const out = execFileSync(openssl, ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' });
      assert.equal(out, `subject=${certificateIdentity(leaf.certPem).subject}\n`, JSON.stringify(cn));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
