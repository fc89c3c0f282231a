// The PKCS#12 key derivation (RFC 7292 Appendix B): the keys of the legacy PBE and of the MAC (pkcs12.ts).
import { createHash } from 'node:crypto';

export const KDF_ID = { key: 1, iv: 2, mac: 3 } as const;

/**
 * The password as the KDF wants it: BMPString (UTF-16BE) plus a two-byte NUL terminator.
 * Characters beyond the BMP become surrogate pairs, as OpenSSL's OPENSSL_utf82uni produces.
 */
export function bmpPassword(password: string): Buffer {
  const utf16 = Buffer.from(`${password}\0`, 'utf16le');
  return utf16.swap16();
}

export function pkcs12Kdf(
  hash: 'sha1' | 'sha256',
  password: Buffer,
  salt: Buffer,
  id: number,
  iterations: number,
  length: number,
): Buffer {
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
