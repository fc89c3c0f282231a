import { inPushOrder, resourceNamed, WILDCARD_TYPES, type Snapshot } from './snapshot.js';
import type { RequestOutcome } from './stream-state.js';
import type { EncodedAny } from '../envoy-api/index.js';

/** The parts of a DeltaDiscoveryRequest the protocol logic needs. */
export interface DeltaDiscoveryRequestLike {
  type_url: string;
  response_nonce?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  error_detail?: { message?: string } | null;
}

export interface DeltaDiscoveryResponseLike {
  type_url: string;
  /** The snapshot's version of the whole type; Envoy only logs it. */
  system_version_info: string;
  nonce: string;
  /** Added or changed resources only, each versioned by the hash of its bytes. */
  resources: Array<{ name: string; version: string; resource: EncodedAny }>;
  removed_resources: string[];
}

/** A response Envoy has not answered yet, and what it changes. */
interface PendingDeltaResponse {
  nonce: string;
  /** Its `system_version_info`. */
  version: string;
  /** Name to the version sent, or null for a name in `removed_resources`. */
  changes: Map<string, string | null>;
}

export interface DeltaTypeState {
  /** Subscribed to every resource of the type ("*", or the legacy empty first request for CDS/LDS). */
  wildcard: boolean;
  /** Names subscribed explicitly (alongside the wildcard, or alone). */
  names: Set<string>;
  /** What Envoy holds, name to version: changes it ACKed, or declared in `initial_resource_versions`. */
  ackedVersions: Map<string, string>;
  /**
   * What Envoy has been sent, name to version, ACKed or not, NACKed included: responses are diffs
   * against this, so a rejected version is not sent again until the resource changes.
   */
  sentVersions: Map<string, string>;
  /** Responses not answered yet, oldest first. Delta responses are diffs, so several can be in flight. */
  pending: PendingDeltaResponse[];
  /** Responses sent for this type on this stream. */
  responsesSent: number;
  /** `system_version_info` of the last ACKed response (as `TypeState.acked` in the SotW stream). */
  acked?: string;
  /** The last NACK; cleared by an ACK that leaves Envoy holding everything it was sent. */
  nack?: { version: string; message: string; at: string };
}

/** A version no resource has (versions are sha256 hashes): the name must be sent again. */
const RESEND = '';

/**
 * Incremental (delta) ADS for one stream, free of gRPC so it can be tested directly; the counterpart
 * of `AdsStreamState`. Each call returns the responses to send, in make-before-break order.
 *
 * Each resource's version is its hash. Responses carry only what Envoy lacks: added and changed
 * resources, and the names of removed ones it holds. A name subscribed to before it exists is sent
 * once it does.
 */
export class DeltaStreamState {
  readonly types = new Map<string, DeltaTypeState>();
  private nonceCounter = 0;

  onRequest(
    req: DeltaDiscoveryRequestLike,
    snapshot: Snapshot | undefined,
    now = new Date(),
  ): { outcome: RequestOutcome; responses: DeltaDiscoveryResponseLike[] } {
    const typeUrl = req.type_url;
    const first = !this.types.has(typeUrl);
    const state = this.types.get(typeUrl) ?? newTypeState();
    this.types.set(typeUrl, state);
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];

    const nonce = req.response_nonce ?? '';
    const outcome: RequestOutcome = nonce === '' ? 'subscribe' : settle(state, nonce, req.error_detail, now);

    // Subscription changes apply even with a stale nonce: the request is their only record.
    const wildcardType = WILDCARD_TYPES.has(typeUrl);
    if (first && wildcardType && subscribe.length === 0 && unsubscribe.length === 0) state.wildcard = true;
    for (const name of subscribe) {
      if (name === '*') {
        if (wildcardType) state.wildcard = true;
        continue;
      }
      state.names.add(name);
      // Envoy may have dropped a resource it still seems to hold: a subscribe is always answered.
      if (state.sentVersions.has(name)) {
        state.sentVersions.set(name, RESEND);
        state.ackedVersions.delete(name);
      }
    }
    for (const name of unsubscribe) {
      if (name === '*') {
        if (!state.wildcard) continue;
        state.wildcard = false;
        for (const held of [...state.sentVersions.keys(), ...state.ackedVersions.keys()])
          if (!state.names.has(held)) forget(state, held);
        continue;
      }
      const explicit = state.names.delete(name);
      // Still covered by the wildcard: Envoy cannot tell whether to keep it, so it gets the resource or its removal.
      if (state.wildcard) {
        if (explicit) state.sentVersions.set(name, RESEND);
      } else {
        forget(state, name);
      }
    }
    // Only the first request for a type on a stream carries them (a reconnect): Envoy already holds these.
    if (first) {
      for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) {
        if (!inScope(state, name)) continue;
        state.sentVersions.set(name, version);
        state.ackedVersions.set(name, version);
      }
    }

    const response = snapshot ? this.diff(typeUrl, state, snapshot) : undefined;
    const type = snapshot?.types.get(typeUrl);
    if (
      first &&
      !response &&
      type &&
      [...type.resources.values()].every((r) => !inScope(state, r.name) || state.ackedVersions.get(r.name) === r.hash)
    ) {
      // A reconnect that already holds this type's current content acknowledged it on an earlier stream.
      state.acked = type.version;
    }
    return { outcome, responses: response ? [response] : [] };
  }

  onSnapshot(snapshot: Snapshot): DeltaDiscoveryResponseLike[] {
    return inPushOrder(this.types, (typeUrl, state) => this.diff(typeUrl, state, snapshot));
  }

  /**
   * True when this stream holds, acknowledged, exactly the snapshot's resources at their versions, with
   * nothing in flight. As for `AdsStreamState.inSync`, every type with resources must be subscribed,
   * by every name for named types: Envoy asks for listeners only after clusters warm, and for route
   * configurations and secrets only after it sees the listener that names them.
   */
  inSync(snapshot: Snapshot): boolean {
    for (const [typeUrl, type] of snapshot.types) {
      const state = this.types.get(typeUrl);
      if (!state) {
        if (type.resources.size > 0) return false;
        continue;
      }
      if (!state.wildcard) {
        for (const name of type.resources.keys()) if (!state.names.has(name)) return false;
      }
      // Plus what it asked for by name that the snapshot serves only on request (older trust generations).
      const expected = new Map([...type.resources].map(([name, r]) => [name, r.hash]));
      for (const name of state.names) {
        const onRequest = expected.has(name) ? undefined : type.resolve?.(name);
        if (onRequest) expected.set(name, onRequest.hash);
      }
      if (state.pending.length > 0 || state.ackedVersions.size !== expected.size) return false;
      for (const [name, hash] of expected) if (state.ackedVersions.get(name) !== hash) return false;
    }
    return this.types.size > 0;
  }

  /** The response that brings Envoy from what it was sent to the snapshot, if it lacks anything. */
  private diff(typeUrl: string, state: DeltaTypeState, snapshot: Snapshot): DeltaDiscoveryResponseLike | undefined {
    const type = snapshot.types.get(typeUrl);
    if (!type) return undefined;
    const candidates = new Set([...state.names, ...state.sentVersions.keys()]);
    if (state.wildcard) for (const name of type.resources.keys()) candidates.add(name);

    const resources: DeltaDiscoveryResponseLike['resources'] = [];
    const removed: string[] = [];
    const changes = new Map<string, string | null>();
    for (const name of [...candidates].sort()) {
      if (!inScope(state, name)) continue;
      const resource = resourceNamed(type, name);
      const sent = state.sentVersions.get(name);
      if (resource) {
        if (sent === resource.hash) continue;
        resources.push({ name, version: resource.hash, resource: resource.any });
        changes.set(name, resource.hash);
      } else if (sent !== undefined) {
        // Only names Envoy holds are removed; a name asked for before it exists waits for it silently.
        removed.push(name);
        changes.set(name, null);
      }
    }
    // The first answer to a wildcard subscription goes out even when empty: Envoy's initialization waits for it.
    const firstWildcardAnswer = state.wildcard && state.responsesSent === 0;
    if (changes.size === 0 && !firstWildcardAnswer) return undefined;

    for (const [name, version] of changes) {
      if (version === null) state.sentVersions.delete(name);
      else state.sentVersions.set(name, version);
    }
    const nonce = String(++this.nonceCounter);
    state.pending.push({ nonce, version: type.version, changes });
    state.responsesSent++;
    return { type_url: typeUrl, system_version_info: type.version, nonce, resources, removed_resources: removed };
  }
}

function newTypeState(): DeltaTypeState {
  return {
    wildcard: false,
    names: new Set(),
    ackedVersions: new Map(),
    sentVersions: new Map(),
    pending: [],
    responsesSent: 0,
  };
}

function inScope(state: DeltaTypeState, name: string): boolean {
  return state.wildcard || state.names.has(name);
}

/** Envoy lost interest in `name`: it drops the resource, and so do we. */
function forget(state: DeltaTypeState, name: string): void {
  state.sentVersions.delete(name);
  state.ackedVersions.delete(name);
}

/**
 * Books Envoy's answer to the response with `nonce`. Envoy answers every response, in order, so an
 * answer also settles any older response still pending. A nonce no pending response of this type
 * carries (answered already, of another type, or made up) is stale and changes nothing.
 */
function settle(
  state: DeltaTypeState,
  nonce: string,
  error: DeltaDiscoveryRequestLike['error_detail'],
  now: Date,
): RequestOutcome {
  const index = state.pending.findIndex((p) => p.nonce === nonce);
  if (index < 0) return 'stale';
  const answered = state.pending.splice(0, index + 1);
  const last = answered[answered.length - 1]!;
  if (error) {
    // What it rejected stays in sentVersions, so it is not sent again until it changes.
    state.nack = { version: last.version, message: error.message ?? '(no message)', at: now.toISOString() };
    return 'nack';
  }
  for (const { changes } of answered) {
    for (const [name, version] of changes) {
      // A name unsubscribed since the response was sent is no longer Envoy's.
      if (!inScope(state, name)) continue;
      if (version === null) state.ackedVersions.delete(name);
      else state.ackedVersions.set(name, version);
    }
  }
  state.acked = last.version;
  if (state.pending.length === 0 && sameEntries(state.ackedVersions, state.sentVersions)) state.nack = undefined;
  return 'ack';
}

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
