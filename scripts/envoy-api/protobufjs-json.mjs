// Derives the protobufjs JSON form of each descriptor set that main.go writes (scripts/generate-envoy-api.sh
// runs it right after): protos/envoy-api.binpb -> protos/envoy-api.json, protos/envoy-services.binpb ->
// protos/envoy-services.json. The control plane loads the JSON (Root.fromJSON): decoding a descriptor set and
// building types from descriptors cost it more time than the start-up budget allows (issue 12).
// The descriptor sets stay the source; this is a pure function of their bytes and of protobufjs's version.
//   node scripts/envoy-api/protobufjs-json.mjs <repository root>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

const SETS = ['envoy-api', 'envoy-services'];

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node scripts/envoy-api/protobufjs-json.mjs <repository root>\n');
  process.exit(2);
}
for (const name of SETS) {
  const bytes = readFileSync(join(out, 'protos', `${name}.binpb`));
  const json = rootFromDescriptorSet(bytes).toJSON();
  // One line per member: the file diffs line by line when the Envoy version moves.
  writeFileSync(join(out, 'protos', `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
}

/** protobufjs's fromDescriptor, with `map<K, V>` fields restored (it reads them as lists of entries). */
function rootFromDescriptorSet(bytes) {
  const set = descriptor.FileDescriptorSet.decode(bytes);
  const entries = new Set();
  for (const file of set.file) collectMapEntries(file.messageType, file.package ? `.${file.package}` : '', entries);
  const root = protobuf.Root.fromDescriptor(set);
  restoreMaps(root, entries);
  return root.resolveAll();
}

function collectMapEntries(messages, scope, into) {
  for (const m of messages) {
    const name = `${scope}.${m.name}`;
    if (m.options?.mapEntry) into.add(name);
    collectMapEntries(m.nestedType, name, into);
  }
}

function restoreMaps(namespace, entries) {
  for (const nested of [...namespace.nestedArray]) {
    if (nested instanceof protobuf.Type) {
      for (const field of [...nested.fieldsArray]) {
        const entry = field.resolve().resolvedType;
        if (!field.repeated || !(entry instanceof protobuf.Type) || !entries.has(entry.fullName)) continue;
        const key = entry.fields.key;
        const value = entry.fields.value.resolve();
        nested.remove(field);
        nested.add(new protobuf.MapField(field.name, field.id, key.type, value.resolvedType?.fullName ?? value.type));
        if (entry.parent === nested) nested.remove(entry);
      }
      // fromDescriptor also marks the parent of a map entry as one: nothing left here is an entry.
      if (nested.options) delete nested.options.map_entry;
      if (nested.options && Object.keys(nested.options).length === 0) nested.options = undefined;
    }
    if (nested instanceof protobuf.Namespace) restoreMaps(nested, entries);
  }
}
