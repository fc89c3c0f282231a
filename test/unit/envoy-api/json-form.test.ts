import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

// Start-up loads protos/*.json, the protobufjs form of the descriptor sets that scripts/generate-envoy-api.sh
// derives from them (--check proves the files are what the script writes, but needs Go). These tests prove,
// without Go, that each JSON file declares exactly what its descriptor set declares: the same messages with
// the same fields (number, type, list or map), oneofs and enum values, and the same service methods.

const PROTOS = fileURLToPath(new URL('../../../../protos/', import.meta.url));

const SCALARS: Record<number, string> = {
  1: 'double',
  2: 'float',
  3: 'int64',
  4: 'uint64',
  5: 'int32',
  6: 'fixed64',
  7: 'fixed32',
  8: 'bool',
  9: 'string',
  12: 'bytes',
  13: 'uint32',
  15: 'sfixed32',
  16: 'sfixed64',
  17: 'sint32',
  18: 'sint64',
};
const LABEL_REPEATED = 3;

interface FieldProto {
  name: string;
  number: number;
  label: number;
  type: number;
  typeName?: string;
  /** Set only on members of a oneof: decoded descriptors read it as 0 otherwise. */
  oneofIndex?: number;
}
interface MessageProto {
  name: string;
  field: FieldProto[];
  nestedType: MessageProto[];
  enumType: EnumProto[];
  oneofDecl: Array<{ name: string }>;
  options?: { mapEntry?: boolean };
}
interface EnumProto {
  name: string;
  value: Array<{ name: string; number: number }>;
}
interface ServiceProto {
  name: string;
  method: Array<{ name: string; inputType: string; outputType: string; clientStreaming?: boolean }>;
}
interface FileProto {
  package?: string;
  messageType: MessageProto[];
  enumType: EnumProto[];
  service: ServiceProto[];
}

function readSet(name: string): FileProto[] {
  const set = descriptor.FileDescriptorSet.decode(readFileSync(`${PROTOS}${name}.binpb`));
  return (set as unknown as { file: FileProto[] }).file;
}

function readJsonRoot(name: string): protobuf.Root {
  return protobuf.Root.fromJSON(JSON.parse(readFileSync(`${PROTOS}${name}.json`, 'utf8')) as protobuf.INamespace);
}

/** Every message (map entries aside), enum and service of the set, each compared with the JSON root's. */
function compare(files: FileProto[], root: protobuf.Root): number {
  const entries = new Map<string, MessageProto>();
  const collect = (messages: MessageProto[], scope: string) => {
    for (const m of messages) {
      if (m.options?.mapEntry) entries.set(`${scope}.${m.name}`, m);
      collect(m.nestedType, `${scope}.${m.name}`);
    }
  };
  for (const file of files) collect(file.messageType, `.${file.package ?? ''}`);
  let compared = 0;
  const enums = (list: EnumProto[], scope: string) => {
    for (const e of list) {
      const found = root.lookupEnum(`${scope}.${e.name}`);
      assert.deepEqual({ ...found.values }, Object.fromEntries(e.value.map((v) => [v.name, v.number])), found.fullName);
      compared++;
    }
  };
  const messages = (list: MessageProto[], scope: string) => {
    for (const m of list) {
      const name = `${scope}.${m.name}`;
      if (m.options?.mapEntry) continue;
      compareMessage(m, root.lookupType(name), entries);
      compared++;
      messages(m.nestedType, name);
      enums(m.enumType, name);
    }
  };
  for (const file of files) {
    const scope = `.${file.package ?? ''}`;
    messages(file.messageType, scope);
    enums(file.enumType, scope);
    for (const s of file.service) {
      const service = root.lookupService(`${scope}.${s.name}`);
      const methods = s.method.map((m) => [m.name, m.inputType, m.outputType, Boolean(m.clientStreaming)]);
      const loaded = service.methodsArray.map((m) => [
        m.name,
        `.${m.requestType.replace(/^\./, '')}`,
        `.${m.responseType.replace(/^\./, '')}`,
        Boolean(m.requestStream),
      ]);
      assert.deepEqual(loaded, methods, service.fullName);
      compared++;
    }
  }
  return compared;
}

function compareMessage(m: MessageProto, type: protobuf.Type, entries: Map<string, MessageProto>): void {
  const expected = m.field.map((f) => {
    const entry = entries.get(typeOf(f));
    if (entry) {
      const [key, value] = entry.field;
      return [f.name, f.number, 'map', `${typeOf(key!)} => ${typeOf(value!)}`];
    }
    return [f.name, f.number, f.label === LABEL_REPEATED ? 'list' : 'one', typeOf(f)];
  });
  const loaded = type.fieldsArray.map((f) => {
    const valueType = f.resolvedType ? f.resolvedType.fullName : f.type;
    if (f instanceof protobuf.MapField) return [f.name, f.id, 'map', `${f.keyType} => ${valueType}`];
    return [f.name, f.id, f.repeated ? 'list' : 'one', valueType];
  });
  const byNumber = (a: unknown[], b: unknown[]) => (a[1] as number) - (b[1] as number);
  assert.deepEqual(loaded.sort(byNumber), expected.sort(byNumber), type.fullName);
  const oneofs = m.oneofDecl.map((o, i) => [
    o.name,
    m.field.filter((f) => Object.hasOwn(f, 'oneofIndex') && f.oneofIndex === i).map((f) => f.name),
  ]);
  assert.deepEqual(
    type.oneofsArray.map((o) => [o.name, o.oneof]),
    oneofs,
    `${type.fullName}: oneofs`,
  );
}

function typeOf(f: FieldProto): string {
  // Decoded descriptors read unset strings as '' (proto2 defaults).
  return f.typeName || (SCALARS[f.type] ?? `type ${f.type}`);
}

test('protos/envoy-api.json declares what protos/envoy-api.binpb declares', () => {
  const compared = compare(readSet('envoy-api'), readJsonRoot('envoy-api'));
  assert.ok(compared > 400, `${compared} messages and enums compared`);
});

test('protos/envoy-services.json declares what protos/envoy-services.binpb declares', () => {
  const compared = compare(readSet('envoy-services'), readJsonRoot('envoy-services'));
  assert.ok(compared > 50, `${compared} messages, enums and services compared`);
});
