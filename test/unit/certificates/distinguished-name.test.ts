// The one printer of names (certificates/distinguished-name.ts): BoringSSL's X509_NAME_print_ex with
// XN_FLAG_RFC2253, which Envoy uses for %DOWNSTREAM_PEER_SUBJECT% and %DOWNSTREAM_PEER_ISSUER%. Names are
// built here byte by byte, so that each rule is seen on its own; the last tests compare whole certificates
// with OpenSSL's -nameopt RFC2253, which applies the same rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import {
  certificateSubject,
  crlIssuerName,
  pemDer,
  printName,
  readName,
  readNameAttributes,
} from '../../../control-plane/src/certificates/index.js';
import { readTlv } from '../../../control-plane/src/certificates/der.js';
import { createCrl, createRootCa } from '../../../control-plane/src/pki/index.js';
import { requireOpenssl } from '../../support/tools.js';
import { der, issueLeaf } from '../identity/certs.js';

type Attribute = [oid: string, tag: number, value: string | Buffer];

const CN = '2.5.4.3';
const O = '2.5.4.10';
const C = '2.5.4.6';
const UID = '0.9.2342.19200300.100.1.1';
const UTF8 = 0x0c;
const PRINTABLE = 0x13;
const BMP = 0x1e;
const UNIVERSAL = 0x1c;

function oidBytes(dotted: string): Buffer {
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
}

/** A Name's DER: RDNs in DER order (least specific first), each a list of attributes. */
function nameDer(rdns: Attribute[][]): Buffer {
  const atv = ([type, tag, value]: Attribute): Buffer =>
    der(
      0x30,
      Buffer.concat([
        der(0x06, oidBytes(type)),
        der(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value),
      ]),
    );
  return der(0x30, Buffer.concat(rdns.map((rdn) => der(0x31, Buffer.concat(rdn.map(atv))))));
}

const printCn = (value: string | Buffer, tag = UTF8): string => printName(nameDer([[[CN, tag, value]]]));

/** UTF-16 big-endian (BMPString) or UTF-32 big-endian (UniversalString) bytes. */
function wide(text: string, width: 2 | 4): Buffer {
  const out: number[] = [];
  for (const c of text) {
    const code = c.codePointAt(0)!;
    for (let i = width - 1; i >= 0; i--) out.push((code >> (8 * i)) & 0xff);
  }
  return Buffer.from(out);
}

describe('separators: most specific RDN first, "," between RDNs, "+" inside a multi-valued one', () => {
  it('prints the RDNs in reverse DER order', () => {
    assert.equal(
      printName(nameDer([[[C, PRINTABLE, 'DE']], [[O, UTF8, 'Org']], [[CN, UTF8, 'alice']]])),
      'CN=alice,O=Org,C=DE',
    );
  });

  it('prints a multi-valued RDN reversed too, joined with "+"', () => {
    const name = nameDer([
      [[C, PRINTABLE, 'DE']],
      [
        [CN, UTF8, 'a'],
        [UID, UTF8, 'u1'],
      ],
    ]);
    assert.equal(printName(name), 'UID=u1+CN=a,C=DE');
    const attributes = readNameAttributes(name, readTlv(name, 0, name.length));
    assert.deepEqual(
      attributes.map((a) => [a.rdn, a.shortName, a.text]),
      [
        [0, 'C', 'DE'],
        [1, 'CN', 'a'],
        [1, 'UID', 'u1'],
      ],
    );
  });

  it('prints an empty name as nothing', () => {
    assert.equal(printName(nameDer([])), '');
  });
});

describe('escaping', () => {
  it('escapes , + " \\ < > ; anywhere in a value, and never =', () => {
    assert.equal(printCn('a,b+c"d\\e<f>g;h=i'), 'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h=i');
    assert.equal(printCn(',+"\\<>;'), 'CN=\\,\\+\\"\\\\\\<\\>\\;');
    assert.equal(printCn('='), 'CN==');
  });

  it('escapes "#" only at the start of a value', () => {
    assert.equal(printCn('#a#'), 'CN=\\#a#');
    assert.equal(printCn('#'), 'CN=\\#');
  });

  it('escapes a space at the start and at the end, not inside', () => {
    assert.equal(printCn(' a b '), 'CN=\\ a b\\ ');
    assert.equal(printCn(' '), 'CN=\\ ');
    assert.equal(printCn('  '), 'CN=\\ \\ ');
    assert.equal(printCn('a  b'), 'CN=a  b');
  });

  it('prints control characters, NUL and DEL as \\XX', () => {
    assert.equal(printCn('a\x00b'), 'CN=a\\00b');
    assert.equal(printCn('\x00'), 'CN=\\00');
    assert.equal(printCn('t\tn\nx\x1fd\x7f'), 'CN=t\\09n\\0Ax\\1Fd\\7F');
  });

  it('prints each UTF-8 byte of a non-ASCII character as \\XX, whatever the string type', () => {
    assert.equal(printCn('é'), 'CN=\\C3\\A9');
    assert.equal(printCn(wide('é', 2), BMP), 'CN=\\C3\\A9');
    assert.equal(printCn(wide('𝔸', 4), UNIVERSAL), 'CN=\\F0\\9D\\94\\B8');
    assert.equal(printCn(Buffer.from([0x61, 0xe9]), 0x14), 'CN=a\\C3\\A9'); // T61String, read as Latin-1
  });

  it('keeps look-alike names apart: Cyrillic, full-width and dotless letters print as their bytes', () => {
    const printed = ['alice', '\u0430lice', 'ａlice', 'al\u0131ce', 'alice\u200b'].map((v) => printCn(v));
    assert.deepEqual(printed, [
      'CN=alice',
      'CN=\\D0\\B0lice',
      'CN=\\EF\\BD\\81lice',
      'CN=al\\C4\\B1ce',
      'CN=alice\\E2\\80\\8B',
    ]);
    assert.equal(new Set(printed).size, printed.length);
  });
});

describe('values and types printed as #hex of their DER', () => {
  it('a type BoringSSL has no short name for prints as its dotted OID (organizationIdentifier included)', () => {
    assert.equal(printName(nameDer([[['2.5.4.97', UTF8, 'VAT']]])), '2.5.4.97=#0C03564154');
  });

  it(
    'a value of a type that is not a string, or UTF-8 that ' + 'does not decode, prints as #hex and is no common name',
    () => {
      const integer = nameDer([[[CN, 0x02, Buffer.from([0x01])]]]);
      assert.deepEqual(readName(integer, readTlv(integer, 0, integer.length)), { rfc2253: 'CN=#020101' });
      const broken = nameDer([[[CN, UTF8, Buffer.from([0x61, 0xff])]]]);
      assert.deepEqual(readName(broken, readTlv(broken, 0, broken.length)), { rfc2253: 'CN=#0C0261FF' });
      assert.equal(printCn(Buffer.from([0x00, 0x61, 0x00]), BMP), 'CN=#1E03006100'); // odd length
    },
  );
});

describe('the common name', () => {
  it('is the most specific one, the first printed', () => {
    const name = nameDer([[[CN, UTF8, 'outer']], [[O, UTF8, 'Org']], [[CN, UTF8, 'inner']]]);
    assert.deepEqual(readName(name, readTlv(name, 0, name.length)), {
      rfc2253: 'CN=inner,O=Org,CN=outer',
      commonName: 'inner',
    });
  });
});

describe('certificates and CRLs', () => {
  it("a CRL's issuer prints as its CA's subject, however the name is written", async () => {
    const ca = await createRootCa({ commonName: 'Root, Inc. + "Q" ' });
    const crl = await createCrl(ca, []);
    assert.equal(certificateSubject(pemDer(ca.certPem)).rfc2253, 'CN=Root\\, Inc. \\+ \\"Q\\"\\ ');
    assert.equal(crlIssuerName(crl), certificateSubject(pemDer(ca.certPem)).rfc2253);
  });

  it('a CRL that does not parse is refused', () => {
    assert.throws(() => crlIssuerName('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'));
  });

  it('subjects print as OpenSSL prints them with -nameopt RFC2253', async () => {
    const openssl = requireOpenssl();
    const dir = mkdtempSync(join(tmpdir(), 'certificates-test-'));
    try {
      const subjects: Attribute[][][] = [
        [
          [[C, PRINTABLE, 'DE']],
          [[O, UTF8, 'A, B + C']],
          [
            [CN, UTF8, 'x'],
            [UID, UTF8, 'y'],
          ],
        ],
        [[[CN, UTF8, ' lead and trail ']], [[O, UTF8, '#hash=eq;semi<lt>gt"q\\b']]],
        [[[CN, UTF8, 'nul\x00ctl\x01del\x7f']], [[O, UTF8, 'jürgen 𝔸 \u0430lice']]],
        [[[CN, BMP, wide('bmp é', 2)]], [[O, PRINTABLE, 'Printable']]],
      ];
      for (const [i, rdns] of subjects.entries()) {
        const leaf = await issueLeaf({ subject: new x509.Name(new Uint8Array(nameDer(rdns))) });
        const file = join(dir, `leaf-${i}.pem`);
        writeFileSync(file, leaf.certPem);
        const out = execFileSync(openssl, ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'], {
          encoding: 'utf8',
        });
        assert.equal(out, `subject=${certificateSubject(pemDer(leaf.certPem)).rfc2253}\n`, `subject ${i}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
