import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatError, resolveConfig } from '../../control-plane/src/config/index.js';
import { signingKeyFromPem } from '../../control-plane/src/identity/index.js';
import { buildEdgeModel } from '../../control-plane/src/model/index.js';
import { jwksDocument } from '../../control-plane/src/runtime/signing-keys.js';
import { translate, type EnvoyResources } from '../../control-plane/src/translate/index.js';

export type GoldenOutput = 'envoy.json' | 'errors.txt';

/** Folders under the golden root that hold shared fixtures; every other folder is a case. */
export const FIXTURE_FOLDERS: ReadonlySet<string> = new Set(['certs']);

export interface GoldenCase {
  name: string;
  dir: string;
  /** What the case declares by the file it holds: envoy.json (resources) or errors.txt (errors). */
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
      if (!existsSync(join(dir, 'config.yaml'))) return { ...c, problem: `${name}/ has no config.yaml: every folder of ${root} but ${[...FIXTURE_FOLDERS].join(', ')} is a case` };
      const declared = (['envoy.json', 'errors.txt'] as const).filter((f) => existsSync(join(dir, f)));
      if (declared.length > 1) return { ...c, problem: `${name}/ holds both envoy.json and errors.txt: a case expects resources or errors, not both` };
      if (declared[0]) return { ...c, expects: declared[0] };
      if (bootstrapping) return c;
      return { ...c, problem: `${name}/ declares nothing: add envoy.json (resources expected) or errors.txt (errors expected), or run npm run golden:update to write the first one` };
    });
}

export interface Rendered {
  file: GoldenOutput;
  text: string;
  resources?: EnvoyResources;
}

/** config.yaml → envoy.json (what Envoy receives) or errors.txt (what the user reads). */
export function renderCase(dir: string, systemRoots: string[]): Rendered {
  const loaded = resolveConfig({
    yaml: { text: readFileSync(join(dir, 'config.yaml'), 'utf8'), file: 'config.yaml' },
    env: {},
    files: { configDir: dir, cwd: dir, readFile: (p) => readFileSync(p, 'utf8') },
    // A fixed stand-in for the system roots, so that the golden files do not follow Node's root store.
    systemRoots,
  });
  // The runner serves the JWKS of the signing key; a case with a fixed signing_key shows that route too.
  const jwks = loaded.ok && loaded.value.signingKey ? jwksDocument([signingKeyFromPem(loaded.value.signingKey.pem)]) : undefined;
  const model = loaded.ok ? buildEdgeModel(loaded.value, { jwks }) : loaded;
  if (!model.ok) return { file: 'errors.txt', text: model.errors.map(formatError).join('\n') + '\n' };
  const resources = translate(model.value);
  const json = {
    clusters: resources.clusters.map((r) => r.resource),
    listeners: resources.listeners.map((r) => r.resource),
    route_configurations: resources.routeConfigurations.map((r) => r.resource),
    secrets: resources.secrets.map((r) => r.resource),
    // Served only under the name of an older trust generation, when Envoy asks for one.
    stale_route_configuration: resources.staleRouteConfiguration?.().resource,
  };
  return { file: 'envoy.json', text: JSON.stringify(json, null, 2) + '\n', resources };
}

/** The resources of a case that expects them; throws (with the errors it rendered) when it rendered none. */
export function expectedResources(c: Pick<GoldenCase, 'name'>, out: Rendered): EnvoyResources {
  if (!out.resources) throw new Error(`${c.name} expects envoy.json but its config renders errors:\n${out.text}`);
  return out.resources;
}
