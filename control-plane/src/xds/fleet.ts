// Each Envoy this replica has served, by node id, as an operator asks about it: is it connected, which config
// does it run, when did it last acknowledge one, what did it last refuse. A node stays listed after its stream
// ends (connected: false, with the time of its last ACK growing), so an Envoy that lost its control plane is
// visible instead of vanishing from /status and the metrics.

import type { AdsEvent, DiscoveryRequest, NodeStatus, Stream } from './ads-types.js';

/** How many departed nodes are remembered: a fleet's worth, not every node id a client ever sent. */
const MAX_DEPARTED = 1000;

export interface EnvoyNack {
  typeUrl: string;
  message: string;
  at: string;
}

export interface EnvoyView {
  node: string;
  /** When this replica first saw the node (since it was last forgotten): its counts start there. */
  firstSeenAt: string;
  connected: boolean;
  /** Open streams of this node (a restarting Envoy may briefly hold two). */
  streams: number;
  /** The snapshot version this node last ran in full (every type it subscribes to ACKed). */
  syncedVersion: string | null;
  lastAckAt: string | null;
  /** Seconds since its last ACK of anything; null before the first. */
  secondsSinceLastAck: number | null;
  lastNack: EnvoyNack | null;
  nacks: number;
  disconnectedAt: string | null;
}

interface NodeRecord {
  firstSeenAt: Date;
  streams: number;
  syncedVersion?: string;
  lastAckAt?: Date;
  lastNack?: EnvoyNack;
  nacks: number;
  disconnectedAt?: Date;
}

export class EnvoyFleet {
  private readonly nodes = new Map<string, NodeRecord>();

  private record(node: string): NodeRecord {
    let r = this.nodes.get(node);
    if (!r) {
      r = { firstSeenAt: new Date(), streams: 0, nacks: 0 };
      this.nodes.set(node, r);
    }
    return r;
  }

  connected(node: string): void {
    const r = this.record(node);
    r.streams++;
    r.disconnectedAt = undefined;
  }

  disconnected(node: string, at = new Date()): void {
    const r = this.nodes.get(node);
    if (!r || r.streams === 0) return;
    r.streams--;
    if (r.streams === 0) r.disconnectedAt = at;
    this.forgetOldest();
  }

  /** An ACK; `syncedVersion` when the node now runs all of that snapshot. */
  acked(node: string, syncedVersion: string | undefined, at = new Date()): void {
    const r = this.record(node);
    r.lastAckAt = at;
    if (syncedVersion !== undefined) r.syncedVersion = syncedVersion;
  }

  /**
   * What one request of a node's stream says: an ACK (with the version it now runs in full, if any: asked only
   * for an ACK, not on every request) or a NACK.
   */
  request(node: string, outcome: AdsEvent, req: DiscoveryRequest, syncedVersion: () => string | undefined): void {
    if (outcome === 'ack') this.acked(node, syncedVersion());
    if (outcome === 'nack') {
      this.nacked(node, {
        typeUrl: req.type_url,
        message: req.error_detail?.message ?? '',
        at: new Date().toISOString(),
      });
    }
  }

  nacked(node: string, nack: EnvoyNack): void {
    const r = this.record(node);
    r.lastNack = nack;
    r.nacks++;
  }

  view(now = new Date()): EnvoyView[] {
    return [...this.nodes]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([node, r]) => ({
        node,
        firstSeenAt: r.firstSeenAt.toISOString(),
        connected: r.streams > 0,
        streams: r.streams,
        syncedVersion: r.syncedVersion ?? null,
        lastAckAt: r.lastAckAt?.toISOString() ?? null,
        secondsSinceLastAck: r.lastAckAt ? Math.max(0, (now.getTime() - r.lastAckAt.getTime()) / 1000) : null,
        lastNack: r.lastNack ?? null,
        nacks: r.nacks,
        disconnectedAt: r.disconnectedAt?.toISOString() ?? null,
      }));
  }

  private forgetOldest(): void {
    const departed = [...this.nodes].filter(([, r]) => r.streams === 0);
    if (departed.length <= MAX_DEPARTED) return;
    departed.sort(([, a], [, b]) => (a.disconnectedAt?.getTime() ?? 0) - (b.disconnectedAt?.getTime() ?? 0));
    for (const [node] of departed.slice(0, departed.length - MAX_DEPARTED)) this.nodes.delete(node);
  }
}

/** One open stream as /status lists it: its node, protocol, and each type's subscription, ACKed version and NACK. */
export function streamStatus(s: Stream): NodeStatus {
  return {
    node: s.node,
    stream: s.id,
    connectedAt: s.connectedAt.toISOString(),
    protocol: s.protocol,
    types: [...s.state.types].map(([typeUrl, t]) => ({
      typeUrl,
      subscribed: 'wildcard' in t ? (t.wildcard ? 'wildcard' : [...t.names]) : t.names,
      acked: t.acked,
      nack: t.nack,
    })),
  };
}
