import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

// The Envoy API as scripts/generate-envoy-api.sh writes it from the Envoy version in envoy/VERSION: descriptor
// sets holding only the messages the edge emits (protos/envoy-api.binpb) and the two services it serves
// (protos/envoy-services.binpb), and the protobufjs JSON form of each (protos/*.json), derived from the sets
// by the same script. Start-up loads the JSON: it skips decoding descriptors and building types from them,
// half of the time the sets took to load (parsing .proto files took ~1 s).

const RESOURCES_JSON = 'envoy-api.json';
const SERVICES_JSON = 'envoy-services.json';

/** `protos/` of this repository, from src or dist. */
function protosDirectory(): string {
  const here = fileURLToPath(import.meta.url);
  let dir = dirname(here);
  while (!existsSync(join(dir, 'protos', RESOURCES_JSON))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`protos/${RESOURCES_JSON} not found above ${here}`);
    dir = parent;
  }
  return join(dir, 'protos');
}

type GenerateConstructor = (type: protobuf.Type) => () => protobuf.Constructor<object>;
const TypeStatics = protobuf.Type as unknown as { generateConstructor: GenerateConstructor };
const compileConstructor = TypeStatics.generateConstructor;

function readJson(file: string): protobuf.INamespace {
  return JSON.parse(readFileSync(join(protosDirectory(), file), 'utf8')) as protobuf.INamespace;
}

/** A protobufjs root with every message the edge emits, for encoding resources (envoy-api/codec.ts). */
export function loadResourceRoot(): protobuf.Root {
  const json = readJson(RESOURCES_JSON);
  return withLazyConstructors(() => protobuf.Root.fromJSON(json));
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
 * From the JSON form, not proto-loader's loadFileDescriptorSetFromBuffer: that builds the root with protobufjs's
 * fromDescriptor, which reads map fields as lists of entries (CheckRequest's headers would not encode).
 */
export function loadServiceDefinitions(): protoLoader.PackageDefinition {
  if (!services) {
    const json = readJson(SERVICES_JSON);
    services = withLazyConstructors(() => protoLoader.fromJSON(json, SERVICE_OPTIONS));
  }
  return services;
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

/** Compiles the type's constructor on first use: only the few dozen types a config uses ever need one. */
function messageConstructor(type: protobuf.Type): protobuf.Constructor<object> {
  return function Message(properties?: Record<string, unknown>) {
    const compiled = compileConstructor(type)();
    type.ctor = compiled;
    return new compiled(properties);
  } as unknown as protobuf.Constructor<object>;
}
