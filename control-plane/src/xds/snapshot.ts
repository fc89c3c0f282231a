import { createHash } from 'node:crypto';
import {
  isGenerationRouteConfigurationName,
  TYPE_URL,
  type EncodedAny,
  type EnvoyResources,
  type NamedResource,
  type ResourceCodec,
  type ResourceKind,
} from '../envoy-api/index.js';

export interface VersionedResource {
  name: string;
  any: EncodedAny;
  /** Hash of the encoded bytes: equal content, equal hash, whatever else changed. */
  hash: string;
  /** The 495-to-everything stand-in of an older trust generation (never a current name, whatever snapshot holds it). */
  failClosed?: true;
}

export interface TypeSnapshot {
  typeUrl: string;
  /** Hash of every resource of the type: unchanged content never produces a new version. */
  version: string;
  resources: Map<string, VersionedResource>;
  /**
   * Resources served only to a stream that asks for them by name (a route configuration of an older trust
   * generation): never pushed unasked, and not needed for a stream to be in sync.
   */
  resolve?: (name: string) => VersionedResource | undefined;
  /** The same resource under another name (route configurations: a rolled-back one under its new generation's name). */
  rename?: (resource: VersionedResource, name: string) => VersionedResource;
  /** A route configuration that answers 495 to everything, under `name`: old generations after a refused route edit. */
  closed?: (name: string) => VersionedResource;
}

export interface Snapshot {
  /** Hash of all type versions; what `/status` calls the config version. */
  version: string;
  types: Map<string, TypeSnapshot>;
}

/** Make-before-break: clusters exist before the listeners and routes that use them (DESIGN.md, xDS). */
export const PUSH_ORDER: readonly string[] = [
  TYPE_URL.cluster,
  TYPE_URL.secret,
  TYPE_URL.listener,
  TYPE_URL.routeConfiguration,
];

/** One response per subscribed type that has something to send, in make-before-break order. */
export function inPushOrder<S, R>(
  types: ReadonlyMap<string, S>,
  respond: (typeUrl: string, state: S) => R | undefined,
): R[] {
  const out: R[] = [];
  for (const typeUrl of PUSH_ORDER) {
    const state = types.get(typeUrl);
    const response = state === undefined ? undefined : respond(typeUrl, state);
    if (response !== undefined) out.push(response);
  }
  return out;
}

/** Types Envoy subscribes to as a whole; the others are requested by name. */
export const WILDCARD_TYPES: ReadonlySet<string> = new Set([TYPE_URL.cluster, TYPE_URL.listener]);

const KIND_OF_LIST: Record<'clusters' | 'listeners' | 'routeConfigurations' | 'secrets', ResourceKind> = {
  clusters: 'cluster',
  listeners: 'listener',
  routeConfigurations: 'routeConfiguration',
  secrets: 'secret',
};

export function buildSnapshot(resources: EnvoyResources, codec: ResourceCodec): Snapshot {
  const types = new Map<string, TypeSnapshot>();
  for (const [list, kind] of Object.entries(KIND_OF_LIST) as Array<[keyof typeof KIND_OF_LIST, ResourceKind]>) {
    const typeUrl = TYPE_URL[kind];
    const map = new Map<string, VersionedResource>();
    for (const r of resources[list]) {
      const any = codec.encode(typeUrl, r.resource);
      map.set(r.name, { name: r.name, any, hash: sha256(any.value) });
    }
    if (typeUrl !== TYPE_URL.routeConfiguration || !resources.staleRouteConfiguration) {
      types.set(typeUrl, { typeUrl, version: versionOf([...map.values()]), resources: map });
      continue;
    }
    const stale = staleRouteConfigurations(
      resources.staleRouteConfiguration,
      resources.closedRouteConfiguration,
      map,
      codec,
    );
    types.set(typeUrl, { typeUrl, version: versionOf([...map.values()]), resources: map, ...stale });
  }
  return { version: snapshotVersion(types), types };
}

/**
 * Any route configuration name of an older trust generation that this config does not serve resolves to the
 * stale template under that name (translate/stale-route-configuration.ts). Encoded on first request, once per
 * name and snapshot.
 */
const MAX_STALE_COPIES = 64;

function staleRouteConfigurations(
  template: () => NamedResource,
  closedTemplate: NamedResource | undefined,
  current: ReadonlyMap<string, VersionedResource>,
  codec: ResourceCodec,
) {
  const typeUrl = TYPE_URL.routeConfiguration;
  const copies = new Map<string, VersionedResource>();
  const resolve = (name: string): VersionedResource | undefined => {
    if (current.has(name) || !isGenerationRouteConfigurationName(name)) return undefined;
    let copy = copies.get(name);
    if (!copy) {
      const any = codec.encode(typeUrl, { ...template().resource, name });
      copy = { name, any, hash: sha256(any.value) };
      // A few old generations at a time in practice; a client asking for endless names must not grow memory.
      if (copies.size < MAX_STALE_COPIES) copies.set(name, copy);
    }
    return copy;
  };
  const rename = (resource: VersionedResource, name: string): VersionedResource => {
    const any = codec.encode(typeUrl, { ...codec.decode(resource.any), name });
    return { name, any, hash: sha256(any.value) };
  };
  const closed =
    closedTemplate &&
    ((name: string): VersionedResource => {
      const any = codec.encode(typeUrl, { ...closedTemplate.resource, name });
      return { name, any, hash: sha256(any.value), failClosed: true as const };
    });
  return { resolve, rename, ...(closed ? { closed } : {}) };
}

/** A resource of the snapshot, or one it serves on request under that name. */
export function resourceNamed(type: TypeSnapshot, name: string): VersionedResource | undefined {
  return type.resources.get(name) ?? type.resolve?.(name);
}

/**
 * The resources a subscription gets and the version they carry. For named subscriptions the version
 * covers only the requested names, so a change elsewhere is not re-sent to this stream.
 */
export function selectResources(
  type: TypeSnapshot,
  names: readonly string[] | 'wildcard',
): { version: string; resources: VersionedResource[] } {
  if (names === 'wildcard') return { version: type.version, resources: [...type.resources.values()] };
  const resources = [...new Set(names)]
    .sort()
    .map((n) => resourceNamed(type, n))
    .filter((r): r is VersionedResource => r !== undefined);
  return { version: versionOf(resources), resources };
}

/**
 * What to serve after Envoy rejected `rejectedType` of `current`: that type as it was in `lastGood` (what Envoy
 * kept), every other type as in `current` (Envoy accepted those) plus anything of `lastGood` the kept type may
 * still name, so an old route never points at a cluster that is gone.
 */
export function rollBackType(current: Snapshot, lastGood: Snapshot, rejectedType: string): Snapshot {
  const types = new Map<string, TypeSnapshot>();
  for (const typeUrl of new Set([...current.types.keys(), ...lastGood.types.keys()])) {
    const now = current.types.get(typeUrl);
    const before = lastGood.types.get(typeUrl);
    const resources =
      typeUrl === rejectedType
        ? keptUnderNewNames(before, now)
        : new Map([...(before?.resources ?? []), ...(now?.resources ?? [])]);
    if (typeUrl === TYPE_URL.routeConfiguration) withoutOldGenerations(resources, now, typeUrl === rejectedType);
    const from = typeUrl === rejectedType ? before : (now ?? before);
    const onRequest = {
      ...(from?.resolve ? { resolve: from.resolve } : {}),
      ...(from?.rename ? { rename: from.rename } : {}),
      ...(now?.closed ? { closed: now.closed } : {}),
    };
    types.set(typeUrl, {
      typeUrl,
      version: versionOf([...resources.values()].sort((a, b) => (a.name < b.name ? -1 : 1))),
      resources,
      ...onRequest,
    });
  }
  return { version: snapshotVersion(types), types };
}

/**
 * A route configuration of an older trust generation is what connections made before a trust change read: it must
 * never get the content it had before the change (that would serve certificates the new trust refuses). When Envoy
 * accepted this edit's routes, the current snapshot's stale template answers those names (`resolve`); when it
 * refused them, the template holds the same refused routes, so those names answer 495 to everything instead.
 */
function withoutOldGenerations(
  resources: Map<string, VersionedResource>,
  now: TypeSnapshot | undefined,
  routesRefused: boolean,
): void {
  for (const name of [...resources.keys()]) {
    // A rolled-back snapshot (Envoy may refuse twice) holds old names as fail-closed copies: still old names.
    const current = now?.resources.get(name);
    if (!isGenerationRouteConfigurationName(name) || (current && !current.failClosed)) continue;
    if (routesRefused && now?.closed) resources.set(name, now.closed(name));
    else resources.delete(name);
  }
}

/**
 * The rejected type as Envoy kept it. A route configuration whose chain's trust generation changed in the same
 * edit is named anew by the listener Envoy accepted: it gets the kept content under that new name, so the new
 * chain serves the routes as they were (its handshake already checks the new trust).
 */
function keptUnderNewNames(
  before: TypeSnapshot | undefined,
  now: TypeSnapshot | undefined,
): Map<string, VersionedResource> {
  const kept = new Map(before?.resources);
  if (!before?.rename || !now) return kept;
  const byClass = new Map([...kept.values()].map((r) => [r.name.split('@')[0], r]));
  for (const name of now.resources.keys()) {
    const previous = name.includes('@') && !kept.has(name) ? byClass.get(name.split('@')[0]) : undefined;
    if (previous) kept.set(name, before.rename(previous, name));
  }
  return kept;
}

/**
 * `next` with the resources of `typeUrl` that only `previous` had put back: clusters that routes still in
 * Envoy name must outlive them, so removals wait until Envoy has acknowledged the routes that dropped them.
 */
export function keepRemoved(next: Snapshot, previous: Snapshot, typeUrl: string): Snapshot {
  const before = previous.types.get(typeUrl)?.resources ?? new Map<string, VersionedResource>();
  const now = next.types.get(typeUrl)?.resources ?? new Map<string, VersionedResource>();
  if ([...before.keys()].every((name) => now.has(name))) return next;
  const resources = new Map([...before, ...now]);
  const types = new Map(next.types);
  types.set(typeUrl, {
    ...next.types.get(typeUrl),
    typeUrl,
    version: versionOf([...resources.values()].sort((a, b) => (a.name < b.name ? -1 : 1))),
    resources,
  });
  return { version: snapshotVersion(types), types };
}

function snapshotVersion(types: ReadonlyMap<string, TypeSnapshot>): string {
  return sha256(Buffer.from(PUSH_ORDER.map((t) => types.get(t)?.version ?? '').join(','))).slice(0, 16);
}

function versionOf(resources: VersionedResource[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(r.name).update('\0').update(r.hash).update('\0');
  return h.digest('hex').slice(0, 16);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
