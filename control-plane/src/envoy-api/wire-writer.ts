// Protobuf's wire format written back to front. A length-delimited field (a message, a string, a packed list)
// needs its length before its bytes; written from the end of the buffer towards the start, the bytes come first
// and the length is known when it is written in front of them. One pass over the resource, no size pass, no
// intermediate message objects, and one scratch buffer reused for every resource.

export const WIRE = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

const INITIAL_BYTES = 64 * 1024;

/** Up to this many characters a string is copied by hand when it is ASCII (longer ones: Buffer.write is faster). */
const SHORT_STRING = 64;

export class ReverseWriter {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  /** The bytes written so far are buf[pos, buf.length). */
  private pos = INITIAL_BYTES;

  /** Bytes written so far: mark it before a length-delimited value, then `lengthSince(mark)`. */
  get length(): number {
    return this.buf.length - this.pos;
  }

  reset(): void {
    this.pos = this.buf.length;
  }

  /** A copy of what was written: the scratch buffer is reused for the next resource. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(this.pos));
  }

  private room(n: number): void {
    if (this.pos >= n) return;
    const used = this.length;
    const size = Math.max(this.buf.length * 2, used + n + INITIAL_BYTES);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, size - used, this.pos);
    this.buf = next;
    this.pos = size - used;
  }

  tag(fieldNumber: number, wireType: number): void {
    this.varint32(((fieldNumber << 3) | wireType) >>> 0);
  }

  /** The length of what was written since `mark` (a `length` read earlier), in front of it. */
  lengthSince(mark: number): void {
    this.varint32(this.length - mark);
  }

  /** `value` as an unsigned 32-bit integer. */
  varint32(value: number): void {
    let v = value >>> 0;
    const n = v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
    this.room(n);
    this.pos -= n;
    let p = this.pos;
    while (v >= 0x80) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  /** int32 and enums: a negative value takes ten bytes, as its 64-bit two's complement. */
  int32(value: number): void {
    if (value >= 0) this.varint32(value);
    else this.varint64(BigInt.asUintN(64, BigInt(value)));
  }

  /** Any 64-bit varint, `value` in [0, 2^64). */
  varint64(value: bigint): void {
    if (value <= 0xffffffffn) return this.varint32(Number(value));
    let n = 1;
    for (let v = value >> 7n; v > 0n; v >>= 7n) n++;
    this.room(n);
    this.pos -= n;
    let p = this.pos;
    let v = value;
    while (v >= 0x80n) {
      this.buf[p++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[p] = Number(v);
  }

  fixed32(value: number): void {
    this.room(4);
    this.pos -= 4;
    this.buf.writeUInt32LE(value >>> 0, this.pos);
  }

  fixed64(value: bigint): void {
    this.room(8);
    this.pos -= 8;
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, value), this.pos);
  }

  float(value: number): void {
    this.room(4);
    this.pos -= 4;
    this.buf.writeFloatLE(value, this.pos);
  }

  double(value: number): void {
    this.room(8);
    this.pos -= 8;
    this.buf.writeDoubleLE(value, this.pos);
  }

  /** UTF-8 bytes, then their length in front. */
  string(value: string): void {
    // Most strings of a config are short names in ASCII: copied here, they skip two calls into C++ each.
    if (value.length <= SHORT_STRING && this.ascii(value)) return;
    const n = Buffer.byteLength(value, 'utf8');
    this.room(n);
    this.pos -= n;
    this.buf.write(value, this.pos, n, 'utf8');
    this.varint32(n);
  }

  /** Writes `value` if it is all ASCII (a byte per character); false, writing nothing, if not. */
  private ascii(value: string): boolean {
    const n = value.length;
    for (let i = 0; i < n; i++) if (value.charCodeAt(i) > 0x7f) return false;
    this.room(n);
    this.pos -= n;
    const buf = this.buf;
    const start = this.pos;
    for (let i = 0; i < n; i++) buf[start + i] = value.charCodeAt(i);
    this.varint32(n);
    return true;
  }

  bytes(value: Uint8Array): void {
    this.room(value.length);
    this.pos -= value.length;
    this.buf.set(value, this.pos);
    this.varint32(value.length);
  }

  /**
   * The `size` bytes that were written first when `length` was `end`, written again in front. Growing the buffer
   * keeps every byte at its distance from the end, so that place is still where it was.
   */
  again(end: number, size: number): void {
    this.room(size);
    const from = this.buf.length - end;
    this.pos -= size;
    this.buf.copyWithin(this.pos, from, from + size); // a memmove within the one buffer
  }
}
