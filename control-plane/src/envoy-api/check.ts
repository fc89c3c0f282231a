import protobuf from 'protobufjs';

// protobufjs `fromObject` drops what the message does not declare (a misspelt field, a field of a newer
// Envoy, an enum name it does not know, an `Any` of a type it does not have) and encodes the rest: Envoy
// then runs a config nobody wrote. This walk finds each such place first and names it by its path.

const ANY = '.google.protobuf.Any';
const TYPE_URL_PREFIX = 'type.googleapis.com/';

type Json = Record<string, unknown>;

/** Problems with `value` as a `type`, each starting with its path (`listener.filter_chains[0].bogus`). */
export function messageProblems(root: protobuf.Root, type: protobuf.Type, value: unknown, path: string): string[] {
  const problems: string[] = [];
  checkMessage(root, type, value, path, problems);
  return problems;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function checkMessage(root: protobuf.Root, type: protobuf.Type, value: unknown, path: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${path}: expected an object (${type.fullName.slice(1)}), got ${describe(value)}`);
    return;
  }
  if (type.fullName === ANY && '@type' in value) {
    checkAny(root, value, path, problems);
    return;
  }
  for (const key of Object.keys(value)) {
    const field = type.fields[key];
    const fieldValue = value[key];
    if (!field) {
      problems.push(`${path}.${key}: not a field of ${type.fullName.slice(1)}`);
    } else if (fieldValue !== undefined && fieldValue !== null) {
      checkField(root, field, fieldValue, `${path}.${key}`, problems);
    }
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((name) => value[name] !== undefined && value[name] !== null);
    if (set.length > 1) problems.push(`${path}: ${set.join(' and ')} are one choice (oneof ${oneof.name}): set one`);
  }
}

function checkAny(root: protobuf.Root, value: Json, path: string, problems: string[]): void {
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
    problems.push(`${path}['@type']: expected "${TYPE_URL_PREFIX}<message>", got ${describe(typeUrl)}`);
    return;
  }
  const inner = root.lookup(typeUrl.slice(TYPE_URL_PREFIX.length));
  if (!(inner instanceof protobuf.Type)) {
    problems.push(`${path}['@type']: ${typeUrl} is not a message of the Envoy API this edge loads`);
    return;
  }
  const { ['@type']: _typeUrl, ...body } = value;
  checkMessage(root, inner, body, path, problems);
}

function checkField(root: protobuf.Root, field: protobuf.Field, value: unknown, path: string, problems: string[]): void {
  if (field.map) {
    if (!isObject(value)) problems.push(`${path}: expected a map (object), got ${describe(value)}`);
    else for (const key of Object.keys(value)) checkValue(root, field, value[key], `${path}[${JSON.stringify(key)}]`, problems);
  } else if (field.repeated) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list, got ${describe(value)}`);
    else value.forEach((item: unknown, i) => checkValue(root, field, item, `${path}[${i}]`, problems));
  } else {
    checkValue(root, field, value, path, problems);
  }
}

const NUMBER_TYPES = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function checkValue(root: protobuf.Root, field: protobuf.Field, value: unknown, path: string, problems: string[]): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    checkMessage(root, resolved, value, path, problems);
  } else if (resolved instanceof protobuf.Enum) {
    const known = typeof value === 'string' ? value in resolved.values : typeof value === 'number' && value in resolved.valuesById;
    if (!known) problems.push(`${path}: ${describe(value)} is not a value of ${resolved.fullName.slice(1)}`);
  } else if (!scalarMatches(field.type, value)) {
    problems.push(`${path}: expected ${field.type}, got ${describe(value)}`);
  }
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
