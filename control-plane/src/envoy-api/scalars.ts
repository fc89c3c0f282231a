import protobuf from 'protobufjs';
import { type ReverseWriter, WIRE } from './wire-writer.js';

// Proto3 scalars as the resource objects hold them (protobufjs's object form: a 64-bit integer as a number, a
// decimal string or a Long, bytes as base64 or a Uint8Array), what each accepts, and their bytes on the wire.

export type Json = Record<string, unknown>;

const SCALAR_WIRE_TYPES: Readonly<Record<string, number>> = {
  double: WIRE.fixed64,
  float: WIRE.fixed32,
  int32: WIRE.varint,
  uint32: WIRE.varint,
  sint32: WIRE.varint,
  fixed32: WIRE.fixed32,
  sfixed32: WIRE.fixed32,
  int64: WIRE.varint,
  uint64: WIRE.varint,
  sint64: WIRE.varint,
  fixed64: WIRE.fixed64,
  sfixed64: WIRE.fixed64,
  bool: WIRE.varint,
  string: WIRE.lengthDelimited,
  bytes: WIRE.lengthDelimited,
};

/** The integer types' ranges, [lowest, end): a value outside would wrap on the wire. Powers of 2 are exact doubles. */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31],
  sint32: [-(2 ** 31), 2 ** 31],
  sfixed32: [-(2 ** 31), 2 ** 31],
  uint32: [0, 2 ** 32],
  fixed32: [0, 2 ** 32],
  int64: [-(2 ** 63), 2 ** 63],
  sint64: [-(2 ** 63), 2 ** 63],
  sfixed64: [-(2 ** 63), 2 ** 63],
  uint64: [0, 2 ** 64],
  fixed64: [0, 2 ** 64],
};
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const DECIMAL = /^-?\d+$/;
/** Standard base64 (protobuf's JSON form of bytes), padded or not; not base64url, no stray characters. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** The wire type of the field's values, or of `scalarType` (a map's key type). */
export function wireTypeOf(field: protobuf.FieldBase, scalarType?: string): number {
  if (scalarType !== undefined) return SCALAR_WIRE_TYPES[scalarType] ?? WIRE.lengthDelimited;
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return WIRE.lengthDelimited;
  if (resolved instanceof protobuf.Enum) return WIRE.varint;
  return SCALAR_WIRE_TYPES[field.type] ?? WIRE.lengthDelimited;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Whether `value` is a `type` as an object holds it: an integer in the type's range (a 64-bit one may also be a
 * decimal string or a Long), a string of well-formed UTF-16 (a lone surrogate has no UTF-8 form), bytes as a
 * Uint8Array or standard base64.
 */
export function scalarMatches(type: string, value: unknown): boolean {
  if (type === 'string') return typeof value === 'string' && isWellFormed(value);
  if (type === 'bool') return typeof value === 'boolean';
  if (type === 'bytes') return value instanceof Uint8Array || (typeof value === 'string' && BASE64.test(value));
  if (type === 'double' || type === 'float') return typeof value === 'number';
  const range = INTEGER_RANGES[type];
  if (range === undefined) return true;
  if (typeof value === 'number') return Number.isInteger(value) && value >= range[0] && value < range[1];
  if (!LONG_TYPES.has(type)) return false;
  if (typeof value === 'string') return DECIMAL.test(value) && inRange(BigInt(value), range);
  return isObject(value) && typeof value['low'] === 'number' && typeof value['high'] === 'number';
}

/** Why `scalarMatches` refused `value`, after the path: ": expected uint32, got number -1 (out of range)". */
export function scalarMismatch(type: string, value: unknown): string {
  const got = `: expected ${type}, got ${describe(value)}`;
  if (typeof value === 'string' && type === 'string') return `${got}, which holds a lone surrogate (no UTF-8 form)`;
  if (typeof value === 'string' && type === 'bytes') return `${got}, which is not standard base64`;
  if (typeof value === 'number' && INTEGER_RANGES[type]) {
    return Number.isInteger(value) ? `${got} (out of range)` : `${got} (not an integer)`;
  }
  if (typeof value === 'string' && LONG_TYPES.has(type) && DECIMAL.test(value)) return `${got} (out of range)`;
  return got;
}

function inRange(value: bigint, [lowest, end]: readonly [number, number]): boolean {
  return value >= BigInt(lowest) && value < BigInt(end);
}

function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Whether a map's key (a string, as object keys are) is a `keyType`: "7" is an int64, "true" a bool. */
export function mapKeyMatches(keyType: string, key: string): boolean {
  if (keyType === 'string') return isWellFormed(key);
  if (keyType === 'bool') return key === 'true' || key === 'false';
  const range = INTEGER_RANGES[keyType];
  return range !== undefined && DECIMAL.test(key) && inRange(BigInt(key), range);
}

/** Writes a value `scalarMatches` (or `mapKeyMatches`) accepted: integers in range, so nothing wraps. */
export function writeScalar(w: ReverseWriter, type: string, value: unknown): void {
  switch (type) {
    case 'string':
      return w.string(value as string);
    case 'bool':
      return w.varint32(value === true || value === 'true' ? 1 : 0);
    case 'bytes':
      return w.bytes(typeof value === 'string' ? Buffer.from(value, 'base64') : (value as Uint8Array));
    case 'double':
      return w.double(Number(value));
    case 'float':
      return w.float(Number(value));
    case 'int32':
      return w.int32(Number(value) | 0);
    case 'uint32':
      return w.varint32(Number(value) >>> 0);
    case 'sint32': {
      const n = Number(value) | 0;
      return w.varint32(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case 'fixed32':
    case 'sfixed32':
      return w.fixed32(Number(value));
    case 'int64':
    case 'uint64':
      // Durations' seconds on every route: the common small case skips BigInt.
      if (typeof value === 'number' && value >= 0 && value <= 0xffffffff) return w.varint32(Math.trunc(value));
      return w.varint64(BigInt.asUintN(64, toBigInt(value)));
    case 'sint64': {
      const n = BigInt.asIntN(64, toBigInt(value));
      return w.varint64(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
    }
    case 'fixed64':
    case 'sfixed64':
      return w.fixed64(toBigInt(value));
  }
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (typeof value === 'string') return BigInt(value);
  const long = value as { low: number; high: number };
  return (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0);
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return `number ${value}`;
  if (value === undefined) return 'undefined';
  return `${typeof value} ${JSON.stringify(value)}`;
}
