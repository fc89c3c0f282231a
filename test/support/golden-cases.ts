import type { EnvoyResources } from '../../control-plane/src/envoy-api/index.js';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatError, resolveConfig } from '../../control-plane/src/config/index.js';
import { signingKeyFromPem } from '../../control-plane/src/identity/index.js';
import { buildEdgeModel, type EdgeModel, type ProviderEndpoints } from '../../control-plane/src/model/index.js';
import { jwksDocument } from '../../control-plane/src/runtime/signing-keys.js';
import { translate } from '../../control-plane/src/translate/index.js';
import { stringify } from 'yaml';

/**
 * What a case expects: Envoy resources (one YAML file per xDS type, and the intermediate model they are
 * translated from) or the errors a user reads.
 */
export type GoldenOutput = 'resources' | 'errors';

/** The files of each kind of output; a case holds those of exactly one kind. */
export const OUTPUT_FILES: Record<GoldenOutput, readonly string[]> = {
  resources: ['clusters.yaml', 'listeners.yaml', 'model.yaml', 'routes.yaml', 'secrets.yaml'],
  errors: ['errors.txt'],
};
/** Files earlier versions wrote, removed when a case is rewritten. */
const RETIRED_FILES = ['envoy.json'];

/** Folders under the golden root that hold shared fixtures; every other folder is a case. */
export const FIXTURE_FOLDERS: ReadonlySet<string> = new Set(['certs']);

export interface GoldenCase {
  name: string;
  dir: string;
  /** What the case declares by the files it holds: the per-type YAML files (resources) or errors.txt (errors). */
  expects?: GoldenOutput;
  /** Why the folder is not a usable case; the test of that case fails with this. */
  problem?: string;
}

/**
 * Every folder under `root` but the fixture folders, sorted. A folder that is not a well-formed case is
 * returned with its problem, to fail by name, never left out: a case that silently stops being a case
 * would stop being tested. Declaring nothing is allowed only while `bootstrapping` (UPDATE_GOLDEN=1
 * writes the first output of a new case).
 */
export function discoverCases(root: string, bootstrapping: boolean): GoldenCase[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !FIXTURE_FOLDERS.has(d.name))
    .map((d) => d.name)
    .sort()
    .map((name): GoldenCase => {
      const dir = join(root, name);
      const c: GoldenCase = { name, dir };
      if (!existsSync(join(dir, 'config.yaml')))
        return {
          ...c,
          problem:
            `${name}/ has no config.yaml: ` +
            `every folder of ${root} but ${[...FIXTURE_FOLDERS].join(', ')} is a case`,
        };
      const declared = (Object.keys(OUTPUT_FILES) as GoldenOutput[]).filter((kind) =>
        OUTPUT_FILES[kind].some((f) => existsSync(join(dir, f))),
      );
      if (declared.length > 1)
        return {
          ...c,
          problem: `${name}/ holds both resource files and errors.txt: a case expects resources or errors, not both`,
        };
      if (declared[0]) return { ...c, expects: declared[0] };
      if (bootstrapping) return c;
      return {
        ...c,
        problem:
          `${name}/ declares nothing: add listeners.yaml and the other resource files (resources expected) ` +
          'or errors.txt (errors expected), or run npm run golden:update to write the first ones',
      };
    });
}

export interface Rendered {
  kind: GoldenOutput;
  /** File name → text: every file of the kind. */
  files: Record<string, string>;
  resources?: EnvoyResources;
}

/** The files a case folder may hold that are not its current output: to be removed when the case is rewritten. */
export function orphanFiles(out: Rendered): string[] {
  return [...Object.values(OUTPUT_FILES).flat(), ...RETIRED_FILES].filter((f) => !(f in out.files));
}

/**
 * config.yaml → one YAML file per xDS type (what Envoy receives) and model.yaml (what model/ hands translate/),
 * or errors.txt (what the user reads).
 */
export async function renderCase(dir: string, systemRoots: string[]): Promise<Rendered> {
  const loaded = resolveConfig({
    yaml: { text: readFileSync(join(dir, 'config.yaml'), 'utf8'), file: 'config.yaml' },
    env: {},
    files: { configDir: dir, cwd: dir, readFile: (p) => readFileSync(p, 'utf8') },
    // A fixed stand-in for the system roots, so that the golden files do not follow Node's root store.
    systemRoots,
  });
  // The runner serves the JWKS of the signing key; a case with a fixed signing_key shows that route too.
  const jwks =
    loaded.ok && loaded.value.signingKey
      ? jwksDocument([await signingKeyFromPem(loaded.value.signingKey.pem)])
      : undefined;
  // A case with sign-in holds what discovery would have read of its provider (runtime/oidc-discovery.ts).
  const providerFile = join(dir, 'provider.json');
  const provider = existsSync(providerFile)
    ? (JSON.parse(readFileSync(providerFile, 'utf8')) as ProviderEndpoints)
    : undefined;
  const model = loaded.ok ? buildEdgeModel(loaded.value, { jwks, provider }) : loaded;
  if (!model.ok) return { kind: 'errors', files: { 'errors.txt': model.errors.map(formatError).join('\n') + '\n' } };
  const resources = translate(model.value);
  const stale = resources.staleRouteConfiguration?.().resource;
  const files = {
    'clusters.yaml': goldenYaml({ clusters: resources.clusters.map((r) => r.resource) }),
    'listeners.yaml': goldenYaml({ listeners: resources.listeners.map((r) => r.resource) }),
    'model.yaml': goldenYaml(modelForReview(model.value)),
    // The stale one is served only under the name of an older trust generation, when Envoy asks for one.
    'routes.yaml': goldenYaml({
      route_configurations: resources.routeConfigurations.map((r) => r.resource),
      ...(stale ? { stale_route_configuration: stale } : {}),
    }),
    'secrets.yaml': goldenYaml({ secrets: resources.secrets.map((r) => redactPrivateKeys(r.resource)) }),
  };
  return { kind: 'resources', files, resources };
}

/** YAML a reviewer can read: multi-line text (Lua, HTML, PEM) as block scalars, long lines left whole, no anchors. */
function goldenYaml(value: object): string {
  return stringify(value, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false });
}

/**
 * The model as plain data in its own key order (dates as ISO text, absent fields left out), each PEM block
 * shortened to its type and the start of its SHA-256: the certificates themselves are in secrets.yaml, and
 * what a reviewer of the model checks is which certificate or CRL goes where. Private keys are redacted.
 */
function modelForReview(model: EdgeModel): object {
  return JSON.parse(JSON.stringify(model), (_key, value: unknown) =>
    typeof value === 'string' && value.includes('-----BEGIN ') ? shortenPemBlocks(value) : value,
  ) as object;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/g;

/** Each PEM block of `text` as one line, `<TYPE sha256:0123456789abcdef>`, or `<… PRIVATE KEY: redacted>`. */
function shortenPemBlocks(text: string): string {
  const blocks = [...text.matchAll(PEM_BLOCK)].map(([, type = '', body = '']) => {
    if (type.includes('PRIVATE KEY')) return `<${type}: redacted in golden files>`;
    const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
    return `<${type} sha256:${createHash('sha256').update(der).digest('hex').slice(0, 16)}>`;
  });
  return blocks.length > 0 ? blocks.join('\n') : text;
}

/** A private key in a golden file helps no reviewer and looks like a leak: its place is shown, not its bytes. */
function redactPrivateKeys(resource: object): object {
  return JSON.parse(JSON.stringify(resource), (key, value: unknown) =>
    key === 'private_key' && typeof value === 'object' && value !== null && 'inline_string' in value
      ? { inline_string: '<private key: redacted in golden files>' }
      : value,
  ) as object;
}

/** The resources of a case that expects them; throws (with the errors it rendered) when it rendered none. */
export function expectedResources(c: Pick<GoldenCase, 'name'>, out: Rendered): EnvoyResources {
  if (!out.resources)
    throw new Error(`${c.name} expects resources but its config renders errors:\n${out.files['errors.txt'] ?? ''}`);
  return out.resources;
}
