import { EncodeError, type EnvoyResources, type ResourceCodec } from './envoy-api/index.js';
import type { Config, Result } from './config/index.js';
import { buildEdgeModel, type EdgeModel, type ModelOptions } from './model/index.js';
import { inconsistencies, translate } from './translate/index.js';
import { buildSnapshot, type Snapshot } from './xds/index.js';

export interface Compiled {
  model: EdgeModel;
  resources: EnvoyResources;
  snapshot: Snapshot;
}

/** Config → model → Envoy resources → versioned snapshot: the whole one-way pipeline after loading. */
export function compile(config: Config, codec: ResourceCodec, options: ModelOptions = {}): Result<Compiled> {
  const model = buildEdgeModel(config, options);
  if (!model.ok) return model;
  const resources = translate(model.value);
  // Never served: Envoy would wait for a resource that does not come. A bug here, not in the user's file.
  const problems = inconsistencies(resources);
  if (problems.length > 0) {
    const message =
      `mtls-edge translated this config into resources that do not fit together ` +
      `(${problems.join('; ')}). This is a bug in mtls-edge, not in your file: the last good config ` +
      `keeps serving; please report it with the config`;
    return { ok: false, errors: [{ file: config.sourceFile, key: 'routes', message }] };
  }
  let snapshot: Snapshot;
  try {
    snapshot = buildSnapshot(resources, codec);
  } catch (e) {
    if (!(e instanceof EncodeError)) throw e;
    // A value Envoy's API cannot carry (a string with a lone surrogate, say) or a translation bug: either way the
    // edit is refused whole, with where it failed, and the last good config keeps serving.
    const message =
      `a value of this config cannot be sent to Envoy: ${e.message}. Check the value it names; ` +
      `if the config looks right, this is a bug in mtls-edge: please report it with the config`;
    return { ok: false, errors: [{ file: config.sourceFile, key: 'routes', message }] };
  }
  return { ok: true, value: { model: model.value, resources, snapshot } };
}

export function summarize(c: Compiled): {
  hosts: number;
  routes: number;
  filterChains: number;
  clusters: number;
  secrets: number;
} {
  const hosts = c.model.classes.flatMap((k) => k.hosts);
  return {
    hosts: hosts.length,
    routes: hosts.reduce((n, h) => n + h.routes.length, 0),
    filterChains: c.model.classes.length,
    clusters: c.resources.clusters.length,
    secrets: c.resources.secrets.length,
  };
}
