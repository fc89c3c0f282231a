import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// The Envoy protos import google/protobuf/descriptor.proto (for annotations); protobufjs ships it as JSON.
const require = createRequire(import.meta.url);
protobuf.common('descriptor', (require('protobufjs/google/protobuf/descriptor.json') as DescriptorJson).nested.google.nested.protobuf.nested);
interface DescriptorJson {
  nested: { google: { nested: { protobuf: { nested: protobuf.INamespace['nested'] & object } } } };
}

interface ProtoManifest {
  package: string;
  includeDirs: string[];
  service: string;
  resources: string[];
}

export interface ProtoPaths {
  includeDirs: string[];
  service: string;
  resources: string[];
}

/** Finds `protos/envoy-api.json` (from src or dist) and the npm package that holds the protos. */
export function envoyProtoPaths(): ProtoPaths {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'protos', 'envoy-api.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('protos/envoy-api.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'protos', 'envoy-api.json'), 'utf8')) as ProtoManifest;
  const packageDir = dirname(createRequire(join(dir, 'package.json')).resolve(`${manifest.package}/package.json`));
  return {
    includeDirs: manifest.includeDirs.map((d) => resolve(packageDir, d)),
    service: manifest.service,
    resources: manifest.resources,
  };
}

/** A protobufjs root with every type the translator emits, for encoding resources into `Any`. */
export function loadResourceRoot(paths: ProtoPaths = envoyProtoPaths()): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target.startsWith('/') && existsSync(target)) return target;
    for (const dir of paths.includeDirs) {
      const full = join(dir, target);
      if (existsSync(full)) return full;
    }
    return target;
  };
  root.loadSync([...paths.resources, paths.service], { keepCase: true });
  root.resolveAll();
  return root;
}
