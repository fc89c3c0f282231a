import {
  ResourceCodec,
  loadResourceRoot,
  TYPE_URL,
  type EnvoyResources,
  type NamedResource,
} from '../../../control-plane/src/envoy-api/index.js';
import { AdsStreamState, buildSnapshot, type Snapshot } from '../../../control-plane/src/xds/index.js';
import type { ResourceKind } from '../../../control-plane/src/envoy-api/index.js';
import { DeltaStreamState } from '../../../control-plane/src/xds/index.js';

// The request/response shapes are not re-exported from the xds index; derive them so tests only use the public surface.
export type Request = Parameters<AdsStreamState['onRequest']>[0];
export type Response = ReturnType<AdsStreamState['onSnapshot']>[number];

export const CDS = TYPE_URL.cluster;
export const LDS = TYPE_URL.listener;
export const RDS = TYPE_URL.routeConfiguration;
export const SDS = TYPE_URL.secret;

// Loading the Envoy protos is the slow part; one root serves every test in a file.
export const codec = new ResourceCodec(loadResourceRoot());

function named<K extends ResourceKind>(resource: NamedResource<K>['resource'] & { name: string }): NamedResource<K> {
  return { name: resource.name, resource };
}

export function cluster(name: string, seconds = 1): NamedResource<'cluster'> {
  return named({ name, connect_timeout: { seconds } });
}

export function routes(name: string, domain?: string): NamedResource<'routeConfiguration'> {
  return named({ name, virtual_hosts: domain ? [{ name: `vh-${domain}`, domains: [domain], routes: [] }] : [] });
}

export function secret(name: string, pem = 'PEM'): NamedResource<'secret'> {
  return named({ name, validation_context: { trusted_ca: { inline_string: pem } } });
}

export function listener(name: string, statPrefix?: string): NamedResource<'listener'> {
  return named(statPrefix ? { name, stat_prefix: statPrefix } : { name });
}

/** Two of each type, so that named subscriptions can be told apart from wildcard ones. */
export function baseResources(): EnvoyResources {
  return {
    clusters: [cluster('c1'), cluster('c2')],
    listeners: [listener('https')],
    routeConfigurations: [routes('r1', 'a.example'), routes('r2', 'b.example')],
    secrets: [secret('s1', 'CA-1'), secret('s2', 'CA-2')],
  };
}

export function snapshotOf(resources: EnvoyResources): Snapshot {
  return buildSnapshot(resources, codec);
}

/** `base` with one list replaced; the other lists keep the very same objects. */
export function withChange(base: EnvoyResources, change: Partial<EnvoyResources>): EnvoyResources {
  return { ...base, ...change };
}

export function decodedNames(response: Response): string[] {
  return response.resources.map((any) => (codec.decode(any) as { name: string }).name);
}

/** What Envoy sends to accept `response`, keeping (or changing) its subscription. */
export function ackOf(response: Response, names: string[] = []): Request {
  return {
    type_url: response.type_url,
    version_info: response.version_info,
    response_nonce: response.nonce,
    resource_names: names,
  };
}

/** What Envoy sends to reject `response`: the last version it accepted, and the error. */
export function nackOf(
  response: Response,
  acceptedVersion: string,
  names: string[] = [],
  message = 'rejected',
): Request {
  return {
    type_url: response.type_url,
    version_info: acceptedVersion,
    response_nonce: response.nonce,
    resource_names: names,
    error_detail: { message },
  };
}

export const SUBSCRIPTIONS: ReadonlyArray<{ typeUrl: string; names: string[] }> = [
  { typeUrl: CDS, names: [] },
  { typeUrl: LDS, names: [] },
  { typeUrl: RDS, names: ['r1', 'r2'] },
  { typeUrl: SDS, names: ['s1', 's2'] },
];

/**
 * A stream that has subscribed to every type and ACKed `snapshot` for each, like a settled Envoy.
 * Returns the responses it got, keyed by type.
 */
export function settledStream(snapshot: Snapshot): { stream: AdsStreamState; last: Map<string, Response> } {
  const stream = new AdsStreamState();
  const last = new Map<string, Response>();
  for (const { typeUrl, names } of SUBSCRIPTIONS) {
    const { responses } = stream.onRequest({ type_url: typeUrl, resource_names: names }, snapshot);
    const response = responses[0];
    if (responses.length !== 1 || !response)
      throw new Error(`expected one response for ${typeUrl}, got ${responses.length}`);
    last.set(typeUrl, response);
    const ack = stream.onRequest(ackOf(response, names), snapshot);
    if (ack.outcome !== 'ack' || ack.responses.length !== 0) throw new Error(`ACK of ${typeUrl} was not quiet`);
  }
  return { stream, last };
}

export function namesFor(typeUrl: string): string[] {
  return SUBSCRIPTIONS.find((s) => s.typeUrl === typeUrl)?.names ?? [];
}

// ---- Incremental (delta) xDS ----

export type DeltaRequest = Parameters<DeltaStreamState['onRequest']>[0];
export type DeltaResponse = ReturnType<DeltaStreamState['onSnapshot']>[number];

/** Names of the resources a delta response carries, decoded from the bytes (and checked against the names it gives). */
export function deltaNames(response: DeltaResponse): string[] {
  return response.resources.map((r) => {
    const decoded = (codec.decode(r.resource) as { name: string }).name;
    if (decoded !== r.name) throw new Error(`resource named ${r.name} decodes as ${decoded}`);
    return r.name;
  });
}

/** What Envoy sends to accept a delta response, optionally changing its subscription in the same message. */
export function deltaAckOf(
  response: DeltaResponse,
  change: { subscribe?: string[]; unsubscribe?: string[] } = {},
): DeltaRequest {
  return {
    type_url: response.type_url,
    response_nonce: response.nonce,
    resource_names_subscribe: change.subscribe ?? [],
    resource_names_unsubscribe: change.unsubscribe ?? [],
  };
}

/** What Envoy sends to reject a delta response. */
export function deltaNackOf(response: DeltaResponse, message = 'rejected'): DeltaRequest {
  return { ...deltaAckOf(response), error_detail: { message } };
}

/**
 * The per-resource versions Envoy reports in `initial_resource_versions` after holding `snapshot`'s resources of a
 * type.
 */
export function heldVersions(snapshot: Snapshot, typeUrl: string, names?: string[]): Record<string, string> {
  const held: Record<string, string> = {};
  for (const [name, resource] of snapshot.types.get(typeUrl)!.resources)
    if (!names || names.includes(name)) held[name] = resource.hash;
  return held;
}

/**
 * A delta stream that has subscribed to every type (SUBSCRIPTIONS, wildcard for CDS and LDS) and ACKed
 * `snapshot` for each, like a settled Envoy. Returns the responses it got, keyed by type.
 */
export function settledDeltaStream(snapshot: Snapshot): { stream: DeltaStreamState; last: Map<string, DeltaResponse> } {
  const stream = new DeltaStreamState();
  const last = new Map<string, DeltaResponse>();
  for (const { typeUrl, names } of SUBSCRIPTIONS) {
    const { responses } = stream.onRequest({ type_url: typeUrl, resource_names_subscribe: names }, snapshot);
    const response = responses[0];
    if (responses.length !== 1 || !response)
      throw new Error(`expected one delta response for ${typeUrl}, got ${responses.length}`);
    last.set(typeUrl, response);
    const ack = stream.onRequest(deltaAckOf(response), snapshot);
    if (ack.outcome !== 'ack' || ack.responses.length !== 0) throw new Error(`delta ACK of ${typeUrl} was not quiet`);
  }
  return { stream, last };
}
