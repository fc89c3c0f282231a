import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

// The Envoy API as scripts/generate-envoy-api.sh writes it from the Envoy version in envoy/VERSION:
// descriptor sets holding only the messages the edge emits (protos/envoy-api.binpb) and the two services
// it serves (protos/envoy-services.binpb). Loading them takes tens of milliseconds; parsing .proto files took ~1 s.

export const RESOURCES_DESCRIPTOR_SET = 'envoy-api.binpb';
export const SERVICES_DESCRIPTOR_SET = 'envoy-services.binpb';

/** `protos/` of this repository, from src or dist. */
export function protosDirectory(): string {
  const here = fileURLToPath(import.meta.url);
  let dir = dirname(here);
  while (!existsSync(join(dir, 'protos', RESOURCES_DESCRIPTOR_SET))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`protos/${RESOURCES_DESCRIPTOR_SET} not found above ${here}`);
    dir = parent;
  }
  return join(dir, 'protos');
}

type FromDescriptor = (set: protobuf.Message) => protobuf.Root;
type GenerateConstructor = (type: protobuf.Type) => () => protobuf.Constructor<object>;
const TypeStatics = protobuf.Type as unknown as { generateConstructor: GenerateConstructor };
const compileConstructor = TypeStatics.generateConstructor;

interface DescriptorSet {
  file: Array<{ package?: string; messageType?: DescriptorMessage[] }>;
}

interface DescriptorMessage {
  name: string;
  nestedType?: DescriptorMessage[];
  options?: { mapEntry?: boolean };
}

/** A protobufjs root with every message the edge emits, for encoding resources (envoy-api/codec.ts). */
export function loadResourceRoot(path = join(protosDirectory(), RESOURCES_DESCRIPTOR_SET)): protobuf.Root {
  return rootFromDescriptorSet(readFileSync(path));
}

const SERVICE_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

let services: protoLoader.PackageDefinition | undefined;

/**
 * ADS and ext_authz for @grpc/grpc-js, loaded once: `envoy.service.discovery.v3.…`, `envoy.service.auth.v3.…`.
 * Not through proto-loader's loadFileDescriptorSetFromBuffer: it builds the root with protobufjs's
 * fromDescriptor, which reads map fields as lists of entries (CheckRequest's headers would not encode).
 */
export function loadServiceDefinitions(): protoLoader.PackageDefinition {
  if (!services) {
    const root = rootFromDescriptorSet(readFileSync(join(protosDirectory(), SERVICES_DESCRIPTOR_SET)));
    const json = root.toJSON();
    services = withLazyConstructors(() => protoLoader.fromJSON(json, SERVICE_OPTIONS));
  }
  return services;
}

function rootFromDescriptorSet(bytes: Uint8Array): protobuf.Root {
  const set = descriptor.FileDescriptorSet.decode(bytes) as unknown as DescriptorSet;
  const entries = new Set<string>();
  for (const file of set.file) {
    collectMapEntries(file.messageType ?? [], file.package ? `.${file.package}` : '', entries);
  }
  return withLazyConstructors(() => {
    const Root = protobuf.Root as unknown as { fromDescriptor: FromDescriptor };
    const root = Root.fromDescriptor(set as unknown as protobuf.Message);
    restoreMaps(root, entries);
    return root.resolveAll() as protobuf.Root;
  });
}

/**
 * protobufjs compiles a constructor per type while it resolves types (`new Function` each, a third of the
 * load time for 400 types): while `build` runs, each type gets one that compiles the real one when first called.
 */
function withLazyConstructors<T>(build: () => T): T {
  TypeStatics.generateConstructor = (type) => () => messageConstructor(type);
  try {
    return build();
  } finally {
    TypeStatics.generateConstructor = compileConstructor;
  }
}

function collectMapEntries(messages: DescriptorMessage[], scope: string, into: Set<string>): void {
  for (const m of messages) {
    const name = `${scope}.${m.name}`;
    if (m.options?.mapEntry) into.add(name);
    collectMapEntries(m.nestedType ?? [], name, into);
  }
}

/** fromDescriptor leaves `map<K, V>` as a repeated field of its entry message: make it a map again. */
function restoreMaps(namespace: protobuf.NamespaceBase, entries: ReadonlySet<string>): void {
  for (const nested of [...namespace.nestedArray]) {
    if (nested instanceof protobuf.Type) {
      let changed = false;
      for (const field of [...nested.fieldsArray]) {
        const entry = field.resolvedType;
        if (!field.repeated || !(entry instanceof protobuf.Type) || !entries.has(entry.fullName)) continue;
        const key = entry.fields['key']!;
        const value = entry.fields['value']!;
        nested.remove(field);
        nested.add(new protobuf.MapField(field.name, field.id, key.type, value.resolvedType?.fullName ?? value.type));
        if (entry.parent === nested) nested.remove(entry);
        changed = true;
      }
      if (changed) nested.ctor = messageConstructor(nested);
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) restoreMaps(nested, entries);
  }
}

/** Compiles the type's constructor on first use: only the few dozen types a config uses ever need one. */
function messageConstructor(type: protobuf.Type): protobuf.Constructor<object> {
  return function Message(properties?: Record<string, unknown>) {
    const compiled = compileConstructor(type)();
    type.ctor = compiled;
    return new compiled(properties);
  } as unknown as protobuf.Constructor<object>;
}
