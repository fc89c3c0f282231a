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
// ASN.1 is built with asn1js; the cryptography is node:crypto except RC2, which Node 20's
// OpenSSL 3 build only offers with --openssl-legacy-provider, so it is implemented below.
import {
  X509Certificate,
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  pbkdf2,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';

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
  const authSafe = der(
    new asn1js.Sequence({
      value: [
        encryptedDataContentInfo(await profile.encryptCerts(der(sequence(certBags)), password)),
        dataContentInfo(der(sequence([keyBag]))),
      ],
    }),
  );

  return der(
    new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 3 }),
        dataContentInfo(authSafe),
        macData(authSafe, password, profile),
      ],
    }),
  );
}

// ---- profiles ----

interface Encrypted {
  algorithm: asn1js.Sequence;
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

const pbkdf2Async = promisify(pbkdf2);

async function pbes2Aes256(plaintext: Buffer, password: string): Promise<Encrypted> {
  // 16-byte salt per NIST SP 800-132 (OpenSSL 3.0 uses 8; readers accept any length).
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  // PBES2 takes the password as its UTF-8 bytes (RFC 9579 §3, and what OpenSSL does), unlike
  // the PKCS#12 KDF below, which takes a BMPString.
  const key = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const algorithm = algorithmId(
    OID.pbes2,
    sequence([
      algorithmId(
        OID.pbkdf2,
        // keyLength is optional and omitted, as OpenSSL does for fixed-size ciphers.
        sequence([octets(salt), integer(ITERATIONS), algorithmId(OID.hmacWithSha256, new asn1js.Null())]),
      ),
      algorithmId(OID.aes256Cbc, octets(iv)),
    ]),
  );
  return { algorithm, ciphertext };
}

/** RFC 7292 Appendix C PBE: key and IV both from the PKCS#12 KDF with SHA-1. */
function pkcs12Pbe(oid: string, keyBytes: number, encrypt: (key: Buffer, iv: Buffer, data: Buffer) => Buffer) {
  return async (plaintext: Buffer, password: string): Promise<Encrypted> => {
    // 8 bytes, as OpenSSL 1.x wrote: the old readers this profile exists for expect that.
    const salt = randomBytes(8);
    const pw = bmpPassword(password);
    const key = pkcs12Kdf('sha1', pw, salt, KDF_ID.key, ITERATIONS, keyBytes);
    const iv = pkcs12Kdf('sha1', pw, salt, KDF_ID.iv, ITERATIONS, 8);
    return {
      algorithm: algorithmId(oid, sequence([octets(salt), integer(ITERATIONS)])),
      ciphertext: encrypt(key, iv, plaintext),
    };
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

async function shroudedKeyBag(key: KeyObject, attrs: asn1js.Sequence[], password: string, profile: Profile) {
  // Re-exported rather than decoded from the PEM, so SEC1 or PKCS#1 input also ends up as PKCS#8.
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  // EncryptedPrivateKeyInfo.
  const { algorithm, ciphertext } = await profile.encryptKey(pkcs8, password);
  return safeBag(OID.pkcs8ShroudedKeyBag, sequence([algorithm, octets(ciphertext)]), attrs);
}

function certBag(certDer: Buffer, attrs: asn1js.Sequence[]): asn1js.Sequence {
  return safeBag(OID.certBag, sequence([oid(OID.x509Certificate), explicit0(octets(certDer))]), attrs);
}

function safeBag(bagId: string, value: asn1js.BaseBlock, attrs: asn1js.Sequence[]): asn1js.Sequence {
  const fields: asn1js.BaseBlock[] = [oid(bagId), explicit0(value)];
  if (attrs.length > 0) fields.push(derSet(attrs));
  return sequence(fields);
}

function bagAttributes(friendlyName: string | undefined, localKeyId: Buffer): asn1js.Sequence[] {
  const attrs = [sequence([oid(OID.localKeyId), derSet([octets(localKeyId)])])];
  if (friendlyName) {
    attrs.push(sequence([oid(OID.friendlyName), derSet([new asn1js.BmpString({ value: friendlyName })])]));
  }
  return attrs;
}

function dataContentInfo(content: Buffer): asn1js.Sequence {
  return sequence([oid(OID.data), explicit0(octets(content))]);
}

function encryptedDataContentInfo({ algorithm, ciphertext }: Encrypted): asn1js.Sequence {
  const encryptedData = sequence([
    integer(0),
    sequence([
      oid(OID.data),
      algorithm,
      // encryptedContent is [0] IMPLICIT OCTET STRING.
      new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: ciphertext }),
    ]),
  ]);
  return sequence([oid(OID.encryptedData), explicit0(encryptedData)]);
}

function macData(authSafe: Buffer, password: string, profile: Profile): asn1js.Sequence {
  // The classic PKCS#12 MAC: HMAC keyed by the PKCS#12 KDF (ID 3) with the same hash. OpenSSL 3.0
  // does not read the newer PBMAC1 (RFC 9579), so that is not an option yet.
  const salt = randomBytes(profile.macSaltBytes);
  const hashBytes = profile.macHash === 'sha256' ? 32 : 20;
  const key = pkcs12Kdf(profile.macHash, bmpPassword(password), salt, KDF_ID.mac, ITERATIONS, hashBytes);
  const mac = createHmac(profile.macHash, key).update(authSafe).digest();
  const hashOid = profile.macHash === 'sha256' ? OID.sha256 : OID.sha1;
  return sequence([
    sequence([algorithmId(hashOid, new asn1js.Null()), octets(mac)]),
    octets(salt),
    integer(ITERATIONS),
  ]);
}

// ---- PKCS#12 key derivation (RFC 7292 Appendix B) ----

const KDF_ID = { key: 1, iv: 2, mac: 3 } as const;

/**
 * The password as the KDF wants it: BMPString (UTF-16BE) plus a two-byte NUL terminator.
 * Characters beyond the BMP become surrogate pairs, as OpenSSL's OPENSSL_utf82uni produces.
 */
function bmpPassword(password: string): Buffer {
  const utf16 = Buffer.from(`${password}\0`, 'utf16le');
  return utf16.swap16();
}

function pkcs12Kdf(hash: 'sha1' | 'sha256', password: Buffer, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const v = 64; // block size of SHA-1 and SHA-256
  const u = hash === 'sha256' ? 32 : 20;
  const D = Buffer.alloc(v, id);
  const stretch = (src: Buffer) => {
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = Buffer.concat([stretch(salt), stretch(password)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    blocks.push(A);
    if (produced + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I, B being A repeated to v bytes.
    const B = stretch(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

// ---- RC2 (RFC 2268), encryption only, CBC with PKCS#7 padding ----

// PITABLE from RFC 2268 §2: a permutation of 0..255 derived from the digits of pi.
const PITABLE = Buffer.from(
  'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2' +
    '179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82' +
    '54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626' +
    '6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7' +
    '08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec' +
    'c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731' +
    '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9' +
    '0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad',
  'hex',
);

function rc2ExpandKey(key: Buffer, effectiveBits: number): Uint16Array {
  const T = key.length;
  const T8 = Math.ceil(effectiveBits / 8);
  const TM = 0xff >> (8 * T8 - effectiveBits);
  const L = Buffer.alloc(128);
  key.copy(L);
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L.readUInt16LE(2 * i);
  return K;
}

function rc2EncryptBlock(K: Uint16Array, block: Buffer): void {
  const R = [block.readUInt16LE(0), block.readUInt16LE(2), block.readUInt16LE(4), block.readUInt16LE(6)];
  const shifts = [1, 2, 3, 5];
  let j = 0;
  const mix = () => {
    for (let i = 0; i < 4; i++) {
      const r = (R[i]! + K[j++]! + (R[(i + 3) % 4]! & R[(i + 2) % 4]!) + (~R[(i + 3) % 4]! & R[(i + 1) % 4]!)) & 0xffff;
      const s = shifts[i]!;
      R[i] = ((r << s) | (r >>> (16 - s))) & 0xffff;
    }
  };
  const mash = () => {
    for (let i = 0; i < 4; i++) R[i] = (R[i]! + K[R[(i + 3) % 4]! & 63]!) & 0xffff;
  };
  // 5 mixing rounds, mash, 6 mixing, mash, 5 mixing.
  for (let round = 0; round < 16; round++) {
    mix();
    if (round === 4 || round === 10) mash();
  }
  for (let i = 0; i < 4; i++) block.writeUInt16LE(R[i]!, 2 * i);
}

function rc2CbcEncrypt(key: Buffer, effectiveBits: number, iv: Buffer, plaintext: Buffer): Buffer {
  const K = rc2ExpandKey(key, effectiveBits);
  const pad = 8 - (plaintext.length % 8);
  const out = Buffer.concat([plaintext, Buffer.alloc(pad, pad)]);
  let prev = iv;
  for (let off = 0; off < out.length; off += 8) {
    const block = out.subarray(off, off + 8);
    for (let i = 0; i < 8; i++) block[i] = block[i]! ^ prev[i]!;
    rc2EncryptBlock(K, block);
    prev = block;
  }
  return out;
}

// ---- input parsing ----

function parseCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
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

// ---- ASN.1 helpers ----

function der(block: asn1js.BaseBlock): Buffer {
  return Buffer.from(block.toBER(false));
}

function sequence(value: asn1js.BaseBlock[]): asn1js.Sequence {
  return new asn1js.Sequence({ value });
}

/** SET OF in DER order (sorted by encoding); asn1js keeps insertion order. */
function derSet(value: asn1js.BaseBlock[]): asn1js.Set {
  const sorted = [...value].sort((a, b) => Buffer.compare(der(a), der(b)));
  return new asn1js.Set({ value: sorted });
}

function explicit0(value: asn1js.BaseBlock): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [value] });
}

function oid(value: string): asn1js.ObjectIdentifier {
  return new asn1js.ObjectIdentifier({ value });
}

function octets(value: Buffer): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: value });
}

function integer(value: number): asn1js.Integer {
  return new asn1js.Integer({ value });
}

function algorithmId(id: string, params: asn1js.BaseBlock): asn1js.Sequence {
  return sequence([oid(id), params]);
}
