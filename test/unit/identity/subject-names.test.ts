// Subjects as Envoy prints them: common names and attribute types with the characters RFC 2253 escapes, compared
// with what Envoy 1.40 and OpenSSL print for the very same names (split from certificate-identity.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { certificateIdentity } from '../../../control-plane/src/identity/index.js';
import { EMAIL_COMMON_NAME_REGEX } from '../../../control-plane/src/policy/subject-regex.js';
import { requireOpenssl } from '../../support/tools.js';
import { der, issueLeaf } from './certs.js';

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
    der(
      0x30,
      Buffer.concat([der(0x06, oid(type)), der(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value)]),
    );
  return new x509.Name(
    new Uint8Array(der(0x30, Buffer.concat(rdns.map((rdn) => der(0x31, Buffer.concat(rdn.map(atv))))))),
  );
}
const CN = '2.5.4.3';
const UTF8 = 0x0c;

test(
  'common names with characters RFC 2253 escapes: printed ' + 'as Envoy prints them; an email only if a mail address',
  async () => {
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
  },
);

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
  const subject = rawName([
    [[CN, UTF8, 'outer@x.example']],
    [['2.5.4.10', UTF8, 'Org, Inc']],
    [[CN, UTF8, 'inner@y.example']],
  ]);
  const id = certificateIdentity((await issueLeaf({ subject })).certPem);
  assert.equal(id.subject, 'CN=inner@y.example,O=Org\\, Inc,CN=outer@x.example');
  assert.equal(id.commonName, 'inner@y.example');
  assert.equal(id.email, 'inner@y.example');
  assert.equal(id.domain, 'y.example');
  assert.equal(id.user, 'inner@y.example');

  // Most specific but not an email address: no email, although a less specific CN is one.
  const notEmail = certificateIdentity(
    (await issueLeaf({ subject: rawName([[[CN, UTF8, 'outer@x.example']], [[CN, UTF8, 'inner']]]) })).certPem,
  );
  assert.equal(notEmail.subject, 'CN=inner,CN=outer@x.example');
  assert.equal(notEmail.email, undefined);
  assert.equal(notEmail.user, 'inner');

  // A multi-valued RDN prints in reverse too, joined with "+".
  const multi = certificateIdentity(
    (
      await issueLeaf({
        subject: rawName([
          [['2.5.4.6', 0x13, 'DE']],
          [
            [CN, UTF8, 'a@b.example'],
            ['0.9.2342.19200300.100.1.1', UTF8, 'uid1'],
          ],
        ]),
      })
    ).certPem,
  );
  assert.equal(multi.subject, 'UID=uid1+CN=a@b.example,C=DE');
  assert.equal(multi.email, 'a@b.example');
});

test(
  "attribute types: BoringSSL's short names, dotted " + 'OIDs with #hex values for the types it does not know',
  async () => {
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
      'CN=a\\C3\\A9@b,searchGuide=g,id-pda-dateOfBirth=19700101000000Z,unstructuredName=host,' +
        'mail=m@x.example,telephoneNumber=\\+49 1,' +
        '1.3.6.1.4.1.311.60.2.1.3=#13024445,2.5.4.97=#0C0956415444452D313233',
    );
    assert.equal(id.commonName, 'aé@b');
  },
);

// What Envoy's RBAC filter decides from the subject: the translator's regex, matched whole as Envoy does.
const ENVOY_CN_IS_EMAIL = new RegExp(`^(?:${EMAIL_COMMON_NAME_REGEX})$`);

test('a common name is an email address exactly when a regex over the RFC 2253 subject says so', async () => {
  const cns = [
    'bob+x@contractors.example.com',
    'jürgen@example.com',
    'x=y@example.com',
    '#a@b.example',
    'a,b;c@x',
    'q"<>\\@x',
    '𝔸@x',
    'c\x01tl\x7f@x',
    'nbsp\u00a0@x',
    'a@b',
    ' lead@x',
    'trail@x ',
    'a b@x',
    'a\tb@x',
    'a@x\n',
    'v\x0bt@x',
    '@x',
    'a@',
    'a@@b',
    '#',
    '=',
    ' ',
    'carol',
    'C@x',
    'CN@x',
    'x,CN=alice@example.com',
    'a@b.c,x',
    'a@b.c+x',
    'a.@b',
    '.a@b',
    'a@b.',
    'a@-b',
    'a@b-',
    'a+b#c@d',
    '#@d',
    'a@b\u0000',
    'a\u0000@b',
    "!#$%&'*+/=?^_`{|}~-@x-y.z9",
    'a@xn--bcher-kva.example',
    'a@B\u212Aexample',
  ];
  const subjects: Array<(cn: string) => x509.Name> = [
    (cn) => rawName([[[CN, UTF8, cn]]]),
    (cn) => rawName([[['2.5.4.10', UTF8, 'CN=a@b, Inc']], [[CN, UTF8, cn]], [['2.5.4.11', UTF8, 'o@u']]]),
    (cn) =>
      rawName([
        [[CN, UTF8, 'outer@x.example']],
        [
          [CN, UTF8, cn],
          ['2.5.4.4', UTF8, 's@n'],
        ],
      ]),
    (cn) => rawName([[[CN, UTF8, cn]], [[CN, UTF8, 'inner']]]),
  ];
  for (const cn of cns) {
    for (const [i, make] of subjects.entries()) {
      const id = certificateIdentity((await issueLeaf({ subject: make(cn) })).certPem);
      assert.equal(
        ENVOY_CN_IS_EMAIL.test(id.subject),
        id.email !== undefined,
        `${JSON.stringify(cn)} in subject ${i}: ${id.subject}`,
      );
    }
  }
});

test('names with escapes print exactly as OpenSSL prints them with -nameopt RFC2253', async () => {
  const openssl = requireOpenssl();
  const dir = mkdtempSync(join(tmpdir(), 'identity-test-'));
  try {
    const cns = [
      'bob+x@contractors.example.com',
      'jürgen@example.com',
      'x=y@example.com',
      '#a@b.example',
      ' lead ',
      'a\tb',
      '𝔸;<>"\\',
    ];
    for (const [i, cn] of cns.entries()) {
      const leaf = await issueLeaf({
        subject: rawName([[[CN, UTF8, 'outer']], [['2.5.4.10', UTF8, 'O, Inc']], [[CN, UTF8, cn]]]),
      });
      const file = join(dir, `leaf-${i}.pem`);
      writeFileSync(file, leaf.certPem);
      const out = execFileSync(openssl, ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'], {
        encoding: 'utf8',
      });
      assert.equal(out, `subject=${certificateIdentity(leaf.certPem).subject}\n`, JSON.stringify(cn));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
