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
  addNewerEnvoyApi(root);
  root.resolveAll();
  return root;
}

/**
 * Parts of Envoy 1.40's API that the npm package's protos predate: RBAC's extension point for principals
 * (`Principal.custom`, field 14 of the `identifier` oneof) and the mtls_authenticated principal's config,
 * which the RBAC translation uses to test SANs one by one (translate/rbac.ts). Names and numbers as in
 * Envoy's own descriptors (envoy/config/rbac/v3/rbac.proto, envoy/extensions/rbac/principals/
 * mtls_authenticated/v3/mtls_authenticated.proto).
 */
function addNewerEnvoyApi(root: protobuf.Root): void {
  const principal = root.lookupType('envoy.config.rbac.v3.Principal');
  if (principal.fields['custom'] === undefined) {
    const custom = new protobuf.Field('custom', 14, 'envoy.config.core.v3.TypedExtensionConfig');
    principal.add(custom);
    principal.oneofs['identifier']?.add(custom);
  }
  const config = new protobuf.Type('Config')
    .add(new protobuf.Field('san_matcher', 1, 'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher'))
    .add(new protobuf.Field('any_validated_client_certificate', 2, 'bool'));
  root.define('envoy.extensions.rbac.principals.mtls_authenticated.v3').add(config);
}
