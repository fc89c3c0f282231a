// Client certificates with whatever subject and SANs a test needs (the shared PKI helpers only
// issue a CN and one email SAN).
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createRootCa, type CertificateAuthority } from '../../../control-plane/src/pki/index.js';

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export interface LeafOptions {
  /** The subject: a Name, or a common name (UTF8String). Omitted: an empty subject. */
  subject?: x509.Name | string;
  sans?: x509.JsonGeneralName[];
  /** Raw GeneralName DER entries appended to the SAN extension (kinds the library cannot write). */
  rawSans?: Uint8Array[];
}

export interface Leaf {
  certPem: string;
  keyPem: string;
  publicKey: KeyObject;
}

let ca: CertificateAuthority | undefined;

export async function testCa(): Promise<CertificateAuthority> {
  ca ??= await createRootCa({ commonName: 'Identity Test CA' });
  return ca;
}

export async function issueLeaf(opts: LeafOptions): Promise<Leaf> {
  const issuer = await testCa();
  const keys = await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const subject =
    opts.subject === undefined
      ? new x509.Name([])
      : typeof opts.subject === 'string'
        ? new x509.Name([{ CN: [{ utf8String: opts.subject }] }])
        : opts.subject;
  const extensions: x509.Extension[] = [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])];
  if ((opts.sans?.length ?? 0) + (opts.rawSans?.length ?? 0) > 0) {
    const generated = new x509.SubjectAlternativeNameExtension(opts.sans ?? []);
    extensions.push(opts.rawSans?.length ? withRawSans(generated, opts.rawSans) : generated);
  }
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    subject,
    issuer: issuer.cert.subjectName,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKey: KeyObject.from(keys.publicKey),
  };
}

/** A SAN extension holding the generated entries followed by `raw` ones. */
function withRawSans(generated: x509.SubjectAlternativeNameExtension, raw: Uint8Array[]): x509.Extension {
  const names = new Uint8Array(generated.value);
  // names is SEQUENCE { entries }: keep its content and append.
  const content = Buffer.concat([Buffer.from(contentOf(names)), ...raw.map((r) => Buffer.from(r))]);
  return new x509.Extension('2.5.29.17', false, new Uint8Array(der(0x30, content)));
}

function contentOf(tlv: Uint8Array): Uint8Array {
  const first = tlv[1] as number;
  const skip = first & 0x80 ? 2 + (first & 0x7f) : 2;
  return tlv.subarray(skip);
}

/** One DER TLV. */
export function der(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.of(tag, ...length), content]);
}

/** An otherName GeneralName of a kind the library does not decode. */
export function unknownOtherName(oid: number[], utf8Value: string): Buffer {
  const oidDer = der(0x06, encodeOid(oid));
  const value = der(0xa0, der(0x0c, Buffer.from(utf8Value, 'utf8')));
  return der(0xa0, Buffer.concat([oidDer, value]));
}

function encodeOid(arcs: number[]): Buffer {
  const [a = 0, b = 0, ...rest] = arcs;
  const bytes: number[] = [a * 40 + b];
  for (const arc of rest) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    groups.forEach((g, i) => bytes.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return Buffer.from(bytes);
}
