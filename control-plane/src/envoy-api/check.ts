import protobuf from 'protobufjs';

// protobufjs `fromObject` drops what the message does not declare (a misspelt field, a field of a newer
// Envoy, an enum name it does not know, an `Any` of a type it does not have) and encodes the rest: Envoy
// then runs a config nobody wrote. This walk finds each such place first and names it by its path.
// It runs on every resource of every snapshot, so it builds no strings on the way: the path is a stack of
// field names and list indexes, printed only for a problem.

const TYPE_URL_PREFIX = 'type.googleapis.com/';
const NUMBER_TYPES = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

type Json = Record<string, unknown>;

/** Checks values against the messages of one root; remembers the messages of the `Any` type URLs it met. */
export class MessageChecker {
  private readonly anyTypes = new Map<string, protobuf.Type | undefined>();
  private readonly path: Array<string | number | { mapKey: string }> = [];
  private problems: string[] = [];

  /** Compared by identity: `fullName` is computed on every read. */
  private readonly any: protobuf.Type;

  constructor(private readonly root: protobuf.Root) {
    this.any = root.lookupType('google.protobuf.Any');
  }

  /** Problems with `value` as a `type`, each starting with its path (`listener.filter_chains[0].bogus`). */
  check(type: protobuf.Type, value: unknown, name: string): string[] {
    this.problems = [];
    this.path.length = 0;
    this.path.push(name);
    this.message(type, value);
    return this.problems;
  }

  private report(text: string): void {
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
    let messageType = type;
    const anyType = type === this.any ? value['@type'] : undefined;
    if (anyType !== undefined) {
      const inner = this.anyType(anyType);
      if (!inner) return;
      messageType = inner;
    }
    for (const key in value) {
      if (anyType !== undefined && key === '@type') continue;
      // Own properties only: `constructor` or `toString` are not fields, whatever every object inherits.
      const field = Object.hasOwn(messageType.fields, key) ? messageType.fields[key] : undefined;
      const fieldValue = value[key];
      this.path.push(key);
      if (!field) this.report(`: not a field of ${messageType.fullName.slice(1)}`);
      else if (fieldValue !== undefined && fieldValue !== null) this.field(field, fieldValue);
      this.path.pop();
    }
    for (const oneof of messageType.oneofsArray) {
      let first: string | undefined;
      for (const name of oneof.oneof) {
        if (value[name] === undefined || value[name] === null) continue;
        if (first === undefined) first = name;
        else this.report(`: ${first} and ${name} are one choice (oneof ${oneof.name}): set one`);
      }
    }
  }

  private anyType(typeUrl: unknown): protobuf.Type | undefined {
    if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
      this.report(`['@type']: expected "${TYPE_URL_PREFIX}<message>", got ${describe(typeUrl)}`);
      return undefined;
    }
    if (!this.anyTypes.has(typeUrl)) {
      const found = this.root.lookup(typeUrl.slice(TYPE_URL_PREFIX.length));
      this.anyTypes.set(typeUrl, found instanceof protobuf.Type ? found : undefined);
    }
    const type = this.anyTypes.get(typeUrl);
    if (!type) this.report(`['@type']: ${typeUrl} is not a message of the Envoy API this edge loads`);
    return type;
  }

  private field(field: protobuf.Field, value: unknown): void {
    if (field.map) {
      if (!isObject(value)) return this.report(`: expected a map (object), got ${describe(value)}`);
      for (const key in value) {
        this.path.push({ mapKey: key });
        this.value(field, value[key]);
        this.path.pop();
      }
    } else if (field.repeated) {
      if (!Array.isArray(value)) return this.report(`: expected a list, got ${describe(value)}`);
      for (let i = 0; i < value.length; i++) {
        this.path.push(i);
        this.value(field, value[i]);
        this.path.pop();
      }
    } else {
      this.value(field, value);
    }
  }

  private value(field: protobuf.Field, value: unknown): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      this.message(resolved, value);
    } else if (resolved instanceof protobuf.Enum) {
      const byName = typeof value === 'string' && Object.hasOwn(resolved.values, value);
      const known = byName || (typeof value === 'number' && Object.hasOwn(resolved.valuesById, value));
      if (!known) this.report(`: ${describe(value)} is not a value of ${resolved.fullName.slice(1)}`);
    } else if (!scalarMatches(field.type, value)) {
      this.report(`: expected ${field.type}, got ${describe(value)}`);
    }
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function scalarMatches(type: string, value: unknown): boolean {
  if (type === 'string') return typeof value === 'string';
  if (type === 'bool') return typeof value === 'boolean';
  if (type === 'bytes') return typeof value === 'string' || value instanceof Uint8Array;
  if (NUMBER_TYPES.has(type)) return typeof value === 'number';
  if (LONG_TYPES.has(type)) return typeof value === 'number' || typeof value === 'string' || isObject(value);
  return true;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
