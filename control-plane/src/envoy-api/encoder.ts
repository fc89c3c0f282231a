import protobuf from 'protobufjs';
import { ReverseWriter, WIRE } from './wire-writer.js';
import {
  describe,
  isObject,
  mapKeyMatches,
  scalarMatches,
  scalarMismatch,
  wireTypeOf,
  writeScalar,
  type Json,
} from './scalars.js';

// protobufjs `fromObject` drops what a message does not declare (a misspelt field, a field of a newer Envoy,
// an enum name it does not know, an `Any` of a type it does not have) and encodes the rest: Envoy then runs a
// config nobody wrote. This walk refuses each such place, and writes the bytes of what it accepts.
// One walk, two modes, one set of rules. Encoding writes each message's fields in field-number order (the bytes
// protobufjs writes for an object both accept) and stops at the first problem; reporting then walks the resource in
// its own key order and names every problem by its path. The path is a stack, printed only for a problem.

const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Thrown to stop encoding at the first problem: the reporting walk that follows says what it is. */
class Refused extends Error {}

type PathPart = string | number | { mapKey: string };

export class MessageEncoder {
  private readonly anyTypes = new Map<string, protobuf.Type | undefined>();
  private readonly path: PathPart[] = [];
  private problems: string[] = [];
  private readonly scratch = new ReverseWriter();
  /** Set while encoding; undefined while reporting. */
  private writer: ReverseWriter | undefined;
  /**
   * Where each `Any` object met so far in this resource was written (the writer's length after it, and its size), by
   * identity: the translator shares one per-route config object among thousands of routes (resumed-session twins),
   * encoded once and copied after. Emptied for each resource, so an object changed between two encodings is never
   * written from stale bytes.
   */
  private readonly anyWritten = new Map<object, { end: number; size: number }>();

  /** Compared by identity: `fullName` is computed on every read. Absent from a root without Anys. */
  private readonly any: protobuf.Type | undefined;

  constructor(private readonly root: protobuf.Root) {
    const any = root.lookup('google.protobuf.Any');
    this.any = any instanceof protobuf.Type ? any : undefined;
  }

  /** The bytes of `value` as a `type`; undefined if it has a problem (`problemsOf` names them). */
  encode(type: protobuf.Type, value: unknown): Buffer | undefined {
    const writer = this.scratch;
    writer.reset();
    this.writer = writer;
    this.path.length = 0;
    try {
      this.message(type, value);
    } catch (e) {
      if (e instanceof Refused) return undefined;
      throw e;
    } finally {
      this.writer = undefined;
      this.anyWritten.clear();
    }
    return writer.finish();
  }

  /** Problems with `value` as a `type`, each starting with its path (`listener.filter_chains[0].bogus`). */
  problemsOf(type: protobuf.Type, value: unknown, name: string): string[] {
    this.writer = undefined;
    this.problems = [];
    this.path.length = 0;
    this.path.push(name);
    this.message(type, value);
    return this.problems;
  }

  private report(text: string): void {
    if (this.writer) throw new Refused();
    const path = this.path.map((s, i) => {
      if (typeof s === 'number') return `[${s}]`;
      if (typeof s === 'object') return `[${JSON.stringify(s.mapKey)}]`;
      return i === 0 ? s : `.${s}`;
    });
    this.problems.push(`${path.join('')}${text}`);
  }

  private message(type: protobuf.Type, value: unknown): void {
    if (!isObject(value)) {
      return this.report(`: expected an object (${type.fullName.slice(1)}), got ${describe(value)}`);
    }
    if (type === this.any && value['@type'] !== undefined) return this.packedAny(value);
    this.fields(type, value, false);
  }

  /** An `Any` written as its message's fields beside '@type': type_url (1) and the message's bytes (2). */
  private packedAny(value: Json): void {
    const typeUrl = value['@type'];
    const inner = this.anyType(typeUrl);
    if (!inner) return;
    const w = this.writer;
    if (!w) return this.fields(inner, value, true);
    const known = this.anyWritten.get(value);
    if (known) return w.again(known.end, known.size);
    const mark = w.length;
    this.fields(inner, value, true);
    w.lengthSince(mark);
    w.tag(2, WIRE.lengthDelimited);
    w.string(typeUrl as string);
    w.tag(1, WIRE.lengthDelimited);
    this.anyWritten.set(value, { end: w.length, size: w.length - mark });
  }

  private anyType(typeUrl: unknown): protobuf.Type | undefined {
    if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
      this.report(`['@type']: expected "${TYPE_URL_PREFIX}<message>", got ${describe(typeUrl)}`);
      return undefined;
    }
    if (!this.anyTypes.has(typeUrl)) {
      const name = typeUrl.slice(TYPE_URL_PREFIX.length);
      const found = this.root.lookup(name);
      // lookup also resolves a partial name ("Duration"): Envoy reads the URL as written and knows no such type.
      const exact = found instanceof protobuf.Type && found.fullName === `.${name}`;
      this.anyTypes.set(typeUrl, exact ? found : undefined);
    }
    const type = this.anyTypes.get(typeUrl);
    if (!type) this.report(`['@type']: ${typeUrl} is not a message of the Envoy API this edge loads`);
    return type;
  }

  private fields(type: protobuf.Type, value: Json, isAnyBody: boolean): void {
    const w = this.writer;
    // Encoding: the fields set, by field number, written last to first (the writer writes back to front).
    const present: protobuf.Field[] | undefined = w ? [] : undefined;
    // The first field set of each oneof met so far: a second one of the same oneof is refused.
    let oneofsSet: protobuf.Field[] | undefined;
    for (const key in value) {
      if (isAnyBody && key === '@type') continue;
      // Own properties only: `constructor` or `toString` are not fields, whatever every object inherits.
      const field = Object.hasOwn(type.fields, key) ? type.fields[key] : undefined;
      const fieldValue = value[key];
      this.path.push(key);
      if (!field) this.report(`: not a field of ${type.fullName.slice(1)}`);
      else if (fieldValue !== undefined && fieldValue !== null) {
        if (field.partOf) oneofsSet = this.oneofMember(field, oneofsSet);
        if (present) insertByNumber(present, field);
        else this.field(field, fieldValue);
      }
      this.path.pop();
    }
    if (!present) return;
    for (let i = present.length - 1; i >= 0; i--) {
      const field = present[i]!;
      this.path.push(field.name);
      this.field(field, value[field.name]);
      this.path.pop();
    }
  }

  /**
   * Notes a set field of a oneof, refusing it when another field of that oneof is set. Only the oneofs of the fields
   * present are looked at (a RouteAction has a dozen oneofs and sets two or three of them).
   */
  private oneofMember(field: protobuf.Field, set: protobuf.Field[] | undefined): protobuf.Field[] {
    const first = set?.find((f) => f.partOf === field.partOf);
    if (first) {
      // Named in the oneof's own order, whatever the order of the object's keys.
      const names = field.partOf!.oneof;
      const [a, b] = names.indexOf(first.name) < names.indexOf(field.name) ? [first, field] : [field, first];
      this.path.pop(); // the problem is the message's, as a whole
      this.report(`: ${a.name} and ${b.name} are one choice (oneof ${field.partOf!.name}): set one`);
      this.path.push(field.name);
      return set!;
    }
    if (!set) return [field];
    set.push(field);
    return set;
  }

  private field(field: protobuf.Field, value: unknown): void {
    if (field instanceof protobuf.MapField) return this.map(field, value);
    if (field.repeated) return this.list(field, value);
    this.value(field, value);
    this.writer?.tag(field.id, wireTypeOf(field));
  }

  private list(field: protobuf.Field, value: unknown): void {
    if (!Array.isArray(value)) return this.report(`: expected a list, got ${describe(value)}`);
    const w = this.writer;
    if (!w) {
      for (let i = 0; i < value.length; i++) this.element(field, value, i);
      return;
    }
    if (value.length === 0) return;
    if (isPacked(field)) {
      const mark = w.length;
      for (let i = value.length - 1; i >= 0; i--) this.element(field, value, i);
      w.lengthSince(mark);
      w.tag(field.id, WIRE.lengthDelimited);
      return;
    }
    const wireType = wireTypeOf(field);
    for (let i = value.length - 1; i >= 0; i--) {
      this.element(field, value, i);
      w.tag(field.id, wireType);
    }
  }

  private element(field: protobuf.Field, list: unknown[], index: number): void {
    this.path.push(index);
    this.value(field, list[index]);
    this.path.pop();
  }

  /** A map is a list of entries, each a message with the key (1) and the value (2). */
  private map(field: protobuf.MapField, value: unknown): void {
    if (!isObject(value)) return this.report(`: expected a map (object), got ${describe(value)}`);
    const w = this.writer;
    const keyType = field.keyType;
    const keys = Object.keys(value);
    for (let n = 0; n < keys.length; n++) {
      const key = keys[w ? keys.length - 1 - n : n]!;
      this.path.push({ mapKey: key });
      const mark = w?.length ?? 0;
      this.value(field, value[key]);
      if (!mapKeyMatches(keyType, key)) this.report(keyMismatch(keyType));
      if (w) {
        w.tag(2, wireTypeOf(field));
        writeScalar(w, keyType, key);
        w.tag(1, wireTypeOf(field, keyType));
        w.lengthSince(mark);
        w.tag(field.id, WIRE.lengthDelimited);
      }
      this.path.pop();
    }
  }

  /** One value of the field (a list's element, a map's value): its bytes, with a length for a message. */
  private value(field: protobuf.FieldBase, value: unknown): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const w = this.writer;
      if (!w) return this.message(resolved, value);
      const mark = w.length;
      this.message(resolved, value);
      w.lengthSince(mark);
    } else if (resolved instanceof protobuf.Enum) {
      const number =
        typeof value === 'string' && Object.hasOwn(resolved.values, value)
          ? resolved.values[value]
          : typeof value === 'number' && Object.hasOwn(resolved.valuesById, value)
            ? value
            : undefined;
      if (number === undefined)
        return this.report(`: ${describe(value)} is not a value of ${resolved.fullName.slice(1)}`);
      this.writer?.int32(number);
    } else if (!scalarMatches(field.type, value)) {
      this.report(scalarMismatch(field.type, value));
    } else if (this.writer) {
      writeScalar(this.writer, field.type, value);
    }
  }
}

function keyMismatch(keyType: string): string {
  if (keyType === 'string') return ': the key holds a lone surrogate (no UTF-8 form)';
  return `: the key is not ${/^[aeiou]/.test(keyType) ? 'an' : 'a'} ${keyType}`;
}

/** Keeps `fields` ordered by field number: a message sets a handful, mostly in order already. */
function insertByNumber(fields: protobuf.Field[], field: protobuf.Field): void {
  let i = fields.length;
  fields.push(field);
  while (i > 0 && fields[i - 1]!.id > field.id) {
    fields[i] = fields[i - 1]!;
    i--;
  }
  fields[i] = field;
}

/** Repeated numbers, booleans and enums go in one length-delimited run (proto3's default). */
function isPacked(field: protobuf.Field): boolean {
  if (!field.packed) return false;
  return field.resolvedType instanceof protobuf.Enum || wireTypeOf(field) !== WIRE.lengthDelimited;
}
