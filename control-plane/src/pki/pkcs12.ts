// PKCS#12 (.p12/.pfx) writer (RFC 7292) for handing a client certificate and its key to browsers,
// OS keychains and Node/OpenSSL in one password-protected file.
//
// Two profiles:
// - modern (default): the same algorithms OpenSSL 3 writes by default, so OpenSSL 3 reads it
//   without the legacy provider (and with it Node 20's tls and Playwright's `clientCertificates`,
//   which loads the pfx through Node): PBES2 (PBKDF2-HMAC-SHA-256) + AES-256-CBC for the key and
//   the certificates, HMAC-SHA-256 MAC.
// - legacy: what OpenSSL 1.x wrote by default, for importers that predate PBES2 in PKCS#12 (older
//   macOS Keychain and Windows): 3DES key, 40-bit RC2 certificates, HMAC-SHA-1 MAC. OpenSSL 3,
//   and so Node 20, reads it only with the legacy provider (`-legacy`), because of RC2.
//
// The structures are @peculiar/asn1-pfx's (and its CMS, PKCS#8 and X.509 siblings'), the PBES2 parameters
// are declared in pkcs12-structures.ts; the cryptography is node:crypto, except RC2 (rc2.ts), which Node 20's
// OpenSSL 3 build only offers with --openssl-legacy-provider, and the PKCS#12 KDF (pkcs12-kdf.ts).
import {
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  pbkdf2,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { ContentInfo, EncryptedContent, EncryptedContentInfo } from '@peculiar/asn1-cms';
import { EncryptedData as EncryptedKeyData } from '@peculiar/asn1-pkcs8';
import {
  AuthenticatedSafe,
  CertBag,
  MacData,
  PFX,
  PKCS12Attribute,
  PKCS8ShroudedKeyBag,
  SafeBag,
  SafeContents,
} from '@peculiar/asn1-pfx';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { AsnBmpStringConverter, AsnSerializer, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { certificateBlocks } from '../certificates/index.js';
import { bmpPassword, KDF_ID, pkcs12Kdf } from './pkcs12-kdf.js';
import { EncryptedData, Pbes2Params, Pbkdf2Params, PbeParams } from './pkcs12-structures.js';
import { rc2CbcEncrypt } from './rc2.js';

export interface Pkcs12Options {
  /** Must be non-empty: an empty password is encoded ambiguously across implementations. */
  password: string;
  /** Shown as the entry name by keychains and browsers; omitted when not given (as OpenSSL does). */
  friendlyName?: string;
  /** Write the pre-PBES2 form (3DES key, RC2-40 certificates, SHA-1 MAC) for old keychains. */
  legacy?: boolean;
}

/**
 * PEM key (PKCS#8) + certificate (+ optional chain PEMs) → DER bytes of a PKCS#12 file.
 *
 * `certPem` is the leaf; any further certificates in it are treated as chain, and each entry of
 * `chainPems` may hold one or several PEM certificates (e.g. an intermediate's `chainPem`). The
 * chain is written after the leaf in the given order, without duplicates. The key must belong
 * to the leaf certificate.
 */
export async function createPkcs12(
  keyPem: string,
  certPem: string,
  chainPems: string[],
  opts: Pkcs12Options,
): Promise<Buffer> {
  if (typeof opts.password !== 'string' || opts.password === '') {
    // "" is ambiguous in PKCS#12 (no password, or an empty BMPString, i.e. two zero bytes, for
    // the MAC) and readers guess differently; besides, the file exists to protect a private key.
    throw new Error('PKCS#12 password must be a non-empty string');
  }
  const key = createPrivateKey(keyPem);
  const [leaf, ...extra] = parseCertificates(certPem, 'certificate');
  if (!leaf) throw new Error('no PEM certificate found in the certificate argument');
  if (!leaf.checkPrivateKey(key)) throw new Error('private key does not match the certificate');
  const chain = dedupe(leaf, [...extra, ...chainPems.flatMap((pem, i) => parseCertificates(pem, `chain entry ${i}`))]);

  const profile = opts.legacy ? LEGACY : MODERN;
  const password = opts.password;

  // Pairs the key with its certificate. SHA-1 of the certificate is what OpenSSL writes and what
  // Windows/macOS expect to see identical on both bags; it is an identifier, not a security measure.
  const localKeyId = createHash('sha1').update(leaf.raw).digest();

  const certBags = [
    certBag(leaf.raw, bagAttributes(opts.friendlyName, localKeyId)),
    // Chain certificates carry no attributes: a localKeyId on them would pair them with the key.
    ...chain.map((c) => certBag(c.raw, [])),
  ];
  const keyBag = await shroudedKeyBag(key, bagAttributes(opts.friendlyName, localKeyId), password, profile);

  // Certificates in an encrypted container, key (already shrouded) in a plain one: the layout of
  // OpenSSL's PKCS12_create, which every reader handles.
  const encryptedCerts = await profile.encryptCerts(der(new SafeContents(certBags)), password);
  const authSafe = der(
    new AuthenticatedSafe([encryptedDataContentInfo(encryptedCerts), dataContentInfo(der(new SafeContents([keyBag])))]),
  );
  const mac = macData(authSafe, password, profile);
  return der(new PFX({ version: 3, authSafe: dataContentInfo(authSafe), macData: mac }));
}

// ---- profiles ----

interface Encrypted {
  algorithm: AlgorithmIdentifier;
  ciphertext: Buffer;
}

interface Profile {
  encryptKey(plaintext: Buffer, password: string): Promise<Encrypted>;
  encryptCerts(plaintext: Buffer, password: string): Promise<Encrypted>;
  macHash: 'sha256' | 'sha1';
  macSaltBytes: number;
}

// OpenSSL's default (PKCS12_DEFAULT_ITER). Higher would be stronger against guessing, but this is
// the count every reader is known to accept promptly; the password is the real protection.
const ITERATIONS = 2048;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  pbeWithSha1And3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  pbeWithSha1And40BitRc2Cbc: '1.2.840.113549.1.12.1.6',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** The DER of NULL: the parameters of the hash and HMAC algorithms, written as OpenSSL writes them. */
const NULL_PARAMETERS = new Uint8Array([0x05, 0x00]).buffer;

const pbkdf2Async = promisify(pbkdf2);

async function pbes2Aes256(plaintext: Buffer, password: string): Promise<Encrypted> {
  // 16-byte salt per NIST SP 800-132 (OpenSSL 3.0 uses 8; readers accept any length).
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  // PBES2 takes the password as its UTF-8 bytes (RFC 9579 §3, and what OpenSSL does), unlike
  // the PKCS#12 KDF, which takes a BMPString.
  const key = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  // keyLength is optional and omitted, as OpenSSL does for fixed-size ciphers.
  const kdf = new Pbkdf2Params({
    salt: new OctetString(salt),
    iterationCount: ITERATIONS,
    prf: new AlgorithmIdentifier({ algorithm: OID.hmacWithSha256, parameters: NULL_PARAMETERS }),
  });
  const params = new Pbes2Params({
    keyDerivationFunc: new AlgorithmIdentifier({ algorithm: OID.pbkdf2, parameters: derBuffer(kdf) }),
    encryptionScheme: new AlgorithmIdentifier({ algorithm: OID.aes256Cbc, parameters: derBuffer(new OctetString(iv)) }),
  });
  return { algorithm: new AlgorithmIdentifier({ algorithm: OID.pbes2, parameters: derBuffer(params) }), ciphertext };
}

/** RFC 7292 Appendix C PBE: key and IV both from the PKCS#12 KDF with SHA-1. */
function pkcs12Pbe(oid: string, keyBytes: number, encrypt: (key: Buffer, iv: Buffer, data: Buffer) => Buffer) {
  return (plaintext: Buffer, password: string): Promise<Encrypted> => {
    // 8 bytes, as OpenSSL 1.x wrote: the old readers this profile exists for expect that.
    const salt = randomBytes(8);
    const pw = bmpPassword(password);
    const key = pkcs12Kdf('sha1', pw, salt, KDF_ID.key, ITERATIONS, keyBytes);
    const iv = pkcs12Kdf('sha1', pw, salt, KDF_ID.iv, ITERATIONS, 8);
    const params = new PbeParams({ salt: new OctetString(salt), iterations: ITERATIONS });
    const algorithm = new AlgorithmIdentifier({ algorithm: oid, parameters: derBuffer(params) });
    return Promise.resolve({ algorithm, ciphertext: encrypt(key, iv, plaintext) });
  };
}

const MODERN: Profile = {
  encryptKey: pbes2Aes256,
  encryptCerts: pbes2Aes256,
  macHash: 'sha256',
  macSaltBytes: 16,
};

const LEGACY: Profile = {
  encryptKey: pkcs12Pbe(OID.pbeWithSha1And3KeyTripleDesCbc, 24, (key, iv, data) => {
    const cipher = createCipheriv('des-ede3-cbc', key, iv);
    return Buffer.concat([cipher.update(data), cipher.final()]);
  }),
  // RC2-40 is what forces OpenSSL 3 to need -legacy, and what old keychains are known to take.
  encryptCerts: pkcs12Pbe(OID.pbeWithSha1And40BitRc2Cbc, 5, (key, iv, data) => rc2CbcEncrypt(key, 40, iv, data)),
  macHash: 'sha1',
  macSaltBytes: 8,
};

// ---- structures ----

async function shroudedKeyBag(
  key: KeyObject,
  attrs: PKCS12Attribute[],
  password: string,
  profile: Profile,
): Promise<SafeBag> {
  // Re-exported rather than decoded from the PEM, so SEC1 or PKCS#1 input also ends up as PKCS#8.
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const { algorithm, ciphertext } = await profile.encryptKey(pkcs8, password);
  const bag = new PKCS8ShroudedKeyBag({
    encryptionAlgorithm: algorithm,
    encryptedData: new EncryptedKeyData(ciphertext),
  });
  return safeBag(OID.pkcs8ShroudedKeyBag, bag, attrs);
}

function certBag(certDer: Buffer, attrs: PKCS12Attribute[]): SafeBag {
  const bag = new CertBag({ certId: OID.x509Certificate, certValue: derBuffer(new OctetString(certDer)) });
  return safeBag(OID.certBag, bag, attrs);
}

function safeBag(bagId: string, value: object, attrs: PKCS12Attribute[]): SafeBag {
  const bag = new SafeBag({ bagId, bagValue: derBuffer(value) });
  // SET OF in DER order (sorted by encoding): the serializer keeps the order it is given.
  if (attrs.length > 0) bag.bagAttributes = [...attrs].sort((a, b) => Buffer.compare(der(a), der(b)));
  return bag;
}

function bagAttributes(friendlyName: string | undefined, localKeyId: Buffer): PKCS12Attribute[] {
  const attrs = [attribute(OID.localKeyId, derBuffer(new OctetString(localKeyId)))];
  if (friendlyName) attrs.push(attribute(OID.friendlyName, AsnBmpStringConverter.toASN(friendlyName).toBER(false)));
  return attrs;
}

function attribute(attrId: string, value: ArrayBuffer): PKCS12Attribute {
  // PKCS12Attribute's constructor drops its argument (asn1-pfx 2.11: Object.assign(params)): set the fields after.
  return Object.assign(new PKCS12Attribute(), { attrId, attrValues: [value] });
}

function dataContentInfo(content: Buffer): ContentInfo {
  return new ContentInfo({ contentType: OID.data, content: derBuffer(new OctetString(content)) });
}

function encryptedDataContentInfo({ algorithm, ciphertext }: Encrypted): ContentInfo {
  const encryptedData = new EncryptedData({
    version: 0,
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: algorithm,
      // encryptedContent is [0] IMPLICIT OCTET STRING.
      encryptedContent: new EncryptedContent({ value: new OctetString(ciphertext) }),
    }),
  });
  return new ContentInfo({ contentType: OID.encryptedData, content: derBuffer(encryptedData) });
}

function macData(authSafe: Buffer, password: string, profile: Profile): MacData {
  // The classic PKCS#12 MAC: HMAC keyed by the PKCS#12 KDF (ID 3) with the same hash. OpenSSL 3.0
  // does not read the newer PBMAC1 (RFC 9579), so that is not an option yet.
  const salt = randomBytes(profile.macSaltBytes);
  const hashBytes = profile.macHash === 'sha256' ? 32 : 20;
  const key = pkcs12Kdf(profile.macHash, bmpPassword(password), salt, KDF_ID.mac, ITERATIONS, hashBytes);
  const mac = createHmac(profile.macHash, key).update(authSafe).digest();
  const hashOid = profile.macHash === 'sha256' ? OID.sha256 : OID.sha1;
  return new MacData({
    mac: new DigestInfo({
      digestAlgorithm: new AlgorithmIdentifier({ algorithm: hashOid, parameters: NULL_PARAMETERS }),
      digest: new OctetString(mac),
    }),
    macSalt: new OctetString(salt),
    iterations: ITERATIONS,
  });
}

// ---- input parsing ----

function parseCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = certificateBlocks(pem);
  if (blocks.length === 0) throw new Error(`no PEM certificate found in ${what}`);
  return blocks.map((block) => new X509Certificate(block));
}

function dedupe(leaf: X509Certificate, chain: X509Certificate[]): X509Certificate[] {
  const seen = new Set([leaf.raw.toString('base64')]);
  return chain.filter((c) => {
    const id = c.raw.toString('base64');
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function der(value: object): Buffer {
  return Buffer.from(AsnSerializer.serialize(value));
}

function derBuffer(value: object): ArrayBuffer {
  return AsnSerializer.serialize(value);
}
