// Random client certificates for property tests of identity extraction: subjects and SANs full of what
// RFC 2253 escapes, lists split on, IDNA maps, and look-alikes; real certificates signed by a test CA.
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import type { CertificateAuthority } from '../../control-plane/src/pki/index.js';
import { der } from '../unit/identity/certs.js';

/** Pieces the values are made of: separators, escapes, control characters, non-ASCII and names that matter. */
const ATOMS = [
  'alice',
  'Bob',
  'a',
  'x',
  '@',
  '.',
  ',',
  '+',
  '"',
  '\\',
  '=',
  '#',
  ' ',
  ';',
  '<',
  '>',
  '-',
  '_',
  '\0',
  '\t',
  'ü',
  '𝔸',
  'ｅ',
  '\u0435',
  '\u212A',
  'CN=',
  'example.com',
  'EXAMPLE.com',
  'victim.ex',
  'evil.ex',
  'xn--bcher-kva.example',
  'bücher.example',
  'alice@example.com',
  'mallory@victim.ex',
  'spiffe://example.com/',
  'a,b',
];
const text = (max: number) =>
  fc.array(fc.constantFrom(...ATOMS), { minLength: 1, maxLength: max }).map((parts) => parts.join(''));

/** Whole values that ought to match something, so that the random ones are compared with allowed answers too. */
const WELL_FORMED = [
  'alice@example.com',
  'Bob@EXAMPLE.com',
  'mallory@victim.ex',
  'victim.ex',
  'WWW.Victim.EX',
  'xn--bcher-kva.example',
  'spiffe://example.com/a,b',
  // One SAN that Envoy's comma-joined list shows as two.
  'alice@example.com,mallory@victim.ex',
  'evil.ex,victim.ex',
  'x,CN=alice@example.com',
];
const value = fc.oneof(fc.constantFrom(...WELL_FORMED), text(4));

const ATTRIBUTE_OIDS: Record<string, number[]> = {
  CN: [0x55, 0x04, 0x03],
  O: [0x55, 0x04, 0x0a],
  OU: [0x55, 0x04, 0x0b],
  emailAddress: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
  organizationIdentifier: [0x55, 0x04, 0x61],
};
const attribute = fc.tuple(
  fc.constantFrom('CN', 'CN', 'CN', 'O', 'OU', 'emailAddress', 'organizationIdentifier'),
  value,
);

export interface FuzzCertificate {
  /** RDNs in DER order (most specific last), each a list of [attribute, UTF8String value]. */
  subject: Array<Array<[string, string]>>;
  /** SANs in order: [kind, value]; values as UTF-8 bytes. */
  sans: Array<['email' | 'dns' | 'uri', string]>;
}

export const fuzzCertificate: fc.Arbitrary<FuzzCertificate> = fc.record({
  subject: fc.array(fc.array(attribute, { minLength: 1, maxLength: 2 }), { maxLength: 4 }),
  sans: fc.array(fc.tuple(fc.constantFrom('email' as const, 'dns' as const, 'uri' as const), value), { maxLength: 4 }),
});

const SAN_TAG = { email: 0x81, dns: 0x82, uri: 0x86 } as const;

function subjectDer(subject: FuzzCertificate['subject']): Buffer {
  const atv = ([type, v]: [string, string]) =>
    der(0x30, Buffer.concat([der(0x06, Buffer.from(ATTRIBUTE_OIDS[type]!)), der(0x0c, Buffer.from(v, 'utf8'))]));
  return der(0x30, Buffer.concat(subject.map((rdn) => der(0x31, Buffer.concat(rdn.map(atv))))));
}

type LibCryptoKey = Parameters<typeof x509.X509CrlGenerator.create>[0]['signingKey'];
const libKey = (key: webcrypto.CryptoKey): LibCryptoKey => key;

/** Signs fuzzed certificates with one key pair for all of them (a key per certificate only costs time). */
export class FuzzIssuer {
  private keys?: webcrypto.CryptoKeyPair;
  private serial = 0;
  constructor(private readonly ca: CertificateAuthority) {}

  async issue(c: FuzzCertificate): Promise<{ certPem: string; keyPem: string }> {
    this.keys ??= await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const extensions: x509.Extension[] = [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])];
    if (c.sans.length > 0) {
      const names = der(0x30, Buffer.concat(c.sans.map(([kind, v]) => der(SAN_TAG[kind], Buffer.from(v, 'utf8')))));
      extensions.push(new x509.Extension('2.5.29.17', false, new Uint8Array(names)));
    }
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: `01${(++this.serial).toString(16).padStart(8, '0')}`,
      subject: new x509.Name(new Uint8Array(subjectDer(c.subject))),
      issuer: this.ca.cert.subjectName,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 86_400_000),
      publicKey: libKey(this.keys.publicKey),
      signingKey: libKey(this.ca.keys.privateKey),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions,
    });
    return {
      certPem: cert.toString('pem') + '\n',
      keyPem: KeyObject.from(this.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
    };
  }
}

/**
 * Criteria Envoy decides (one matcher each), as YAML, over the values the certificates are made of: the
 * same list serves the unit property test (through the config loader) and the end-to-end sample.
 */
export const FUZZ_CRITERIA = [
  'email: alice@example.com',
  'email: { ends_with: "@example.com" }',
  'email: { contains: "," }',
  'email: { not: alice@example.com }',
  'domain: example.com',
  'domain: { ends_with: .ex }',
  'domain: { not: victim.ex }',
  'domain: bücher.example',
  'client_certificate: { san_dns: victim.ex }',
  'client_certificate: { san_dns: { ends_with: .victim.ex } }',
  'client_certificate: { san_dns: { contains: "ex" } }',
  'client_certificate: { san_dns: { in: [evil.ex, bücher.example] } }',
  'client_certificate: { san_email: alice@example.com }',
  'client_certificate: { san_email: { ends_with: "@victim.ex" } }',
  'client_certificate: { san_uri: "spiffe://example.com/a,b" }',
  'client_certificate: { san_uri: { starts_with: "spiffe://example.com/" } }',
];
