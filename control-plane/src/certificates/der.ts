// A small DER reader: just enough to walk the fields of a certificate, its names and extensions, and a CRL.

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

export function readTlv(der: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new Error('truncated DER');
  const tag = der[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new Error('unsupported DER tag');
  let length = der[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) throw new Error('invalid DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[contentStart + i] as number);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end;) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

export const SEQUENCE = 0x30;
export const SET = 0x31;
export const OID = 0x06;
export const OCTET_STRING = 0x04;

export interface TbsParts {
  issuer: Tlv;
  subject: Tlv;
  spki: Tlv;
  extensions: Tlv[];
}

export function readTbsCertificate(der: Uint8Array): TbsParts {
  const certificate = readTlv(der, 0, der.length);
  const tbs = children(der, certificate)[0];
  if (certificate.tag !== SEQUENCE || tbs?.tag !== SEQUENCE) throw new Error('not an X.509 certificate');
  const fields = children(der, tbs);
  // version [0] EXPLICIT is optional; then serialNumber, signature, issuer, validity, subject, spki.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [, , issuer, , subject, spki] = fields.slice(first);
  if (issuer === undefined || subject === undefined || spki === undefined) throw new Error('not an X.509 certificate');
  const extensions = fields.slice(first + 6).find((f) => f.tag === 0xa3);
  const list = extensions === undefined ? undefined : children(der, extensions)[0];
  return { issuer, subject, spki, extensions: list === undefined ? [] : children(der, list) };
}

export function readOid(der: Uint8Array, tlv: Tlv): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const byte = der[i] as number;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0n;
    }
  }
  const head = arcs.shift() ?? 0n;
  const top = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [top, head - top * 40n, ...arcs].join('.');
}
