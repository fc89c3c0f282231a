import { inPushOrder, selectResources, WILDCARD_TYPES, type Snapshot } from './snapshot.js';
import type { EncodedAny } from '../envoy-api/index.js';

/** The parts of a DiscoveryRequest the protocol logic needs. */
export interface DiscoveryRequestLike {
  type_url: string;
  version_info?: string;
  response_nonce?: string;
  resource_names?: string[];
  error_detail?: { message?: string } | null;
}

export interface DiscoveryResponseLike {
  type_url: string;
  version_info: string;
  nonce: string;
  resources: EncodedAny[];
}

export interface TypeState {
  names: string[] | 'wildcard';
  /** Version and names of the last response, to send each (version, names) pair once. */
  sent?: { version: string; names: string; nonce: string };
  acked?: string;
  nack?: { version: string; message: string; at: string };
}

export type RequestOutcome = 'stale' | 'ack' | 'nack' | 'subscribe';

/**
 * State-of-the-world ADS for one stream, free of gRPC so it can be tested directly.
 * Each call returns the responses to send, in make-before-break order.
 */
export class AdsStreamState {
  readonly types = new Map<string, TypeState>();
  private nonceCounter = 0;

  onRequest(
    req: DiscoveryRequestLike,
    snapshot: Snapshot | undefined,
    now = new Date(),
  ): { outcome: RequestOutcome; responses: DiscoveryResponseLike[] } {
    const typeUrl = req.type_url;
    const state = this.types.get(typeUrl) ?? { names: 'wildcard' };
    const nonce = req.response_nonce ?? '';
    // A request answering an older response is superseded by one we already sent: ignore it.
    if (nonce !== '' && state.sent?.nonce !== nonce) return { outcome: 'stale', responses: [] };

    let outcome: RequestOutcome = 'subscribe';
    if (nonce !== '' && req.error_detail) {
      outcome = 'nack';
      state.nack = {
        version: state.sent?.version ?? '',
        message: req.error_detail.message ?? '(no message)',
        at: now.toISOString(),
      };
    } else if (nonce !== '') {
      outcome = 'ack';
      state.acked = req.version_info ?? '';
      if (state.acked === state.sent?.version) state.nack = undefined;
    }
    const names = req.resource_names ?? [];
    state.names =
      WILDCARD_TYPES.has(typeUrl) && (names.length === 0 || names.includes('*')) ? 'wildcard' : [...names].sort();
    this.types.set(typeUrl, state);
    const response = snapshot ? this.responseIfChanged(typeUrl, state, snapshot) : undefined;
    return { outcome, responses: response ? [response] : [] };
  }

  onSnapshot(snapshot: Snapshot): DiscoveryResponseLike[] {
    return inPushOrder(this.types, (typeUrl, state) => this.responseIfChanged(typeUrl, state, snapshot));
  }

  /**
   * True when this stream has acknowledged everything the snapshot holds. Envoy asks for listeners only
   * after clusters warm, and for route configurations and secrets only after it sees the listener that
   * names them, so every type with resources must be subscribed, by every name, and acknowledged.
   */
  inSync(snapshot: Snapshot): boolean {
    for (const [typeUrl, type] of snapshot.types) {
      const state = this.types.get(typeUrl);
      if (!state) {
        if (type.resources.size > 0) return false;
        continue;
      }
      if (state.names !== 'wildcard') {
        const names = new Set(state.names);
        for (const name of type.resources.keys()) if (!names.has(name)) return false;
      }
      if (state.acked !== selectResources(type, state.names).version) return false;
    }
    return this.types.size > 0;
  }

  private responseIfChanged(typeUrl: string, state: TypeState, snapshot: Snapshot): DiscoveryResponseLike | undefined {
    const type = snapshot.types.get(typeUrl);
    if (!type) return undefined;
    const { version, resources } = selectResources(type, state.names);
    const namesKey = state.names === 'wildcard' ? '*' : state.names.join(',');
    // Never resend what the client already has or has rejected: a NACKed version waits for new content.
    if (state.sent && state.sent.version === version && state.sent.names === namesKey) return undefined;
    const nonce = String(++this.nonceCounter);
    state.sent = { version, names: namesKey, nonce };
    return { type_url: typeUrl, version_info: version, nonce, resources: resources.map((r) => r.any) };
  }
}
