// RC2 (RFC 2268), encryption only, CBC with PKCS#7 padding: the 40-bit certificate encryption of the legacy
// PKCS#12 profile (pkcs12.ts). Node 20's OpenSSL 3 offers RC2 only with --openssl-legacy-provider.

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

export function rc2CbcEncrypt(key: Buffer, effectiveBits: number, iv: Buffer, plaintext: Buffer): Buffer {
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
