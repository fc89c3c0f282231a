// The shapes the ADS server (server.ts) works with: requests of either protocol, its streams, and the status
// and events it reports.
import type * as grpc from '@grpc/grpc-js';
import type { Snapshot } from './snapshot.js';
import type { DeltaDiscoveryRequestLike, DeltaStreamState } from './delta-stream-state.js';
import type { AdsStreamState, DiscoveryRequestLike, RequestOutcome } from './stream-state.js';

/** Where the control channel listens (config's SocketAddress has this shape). */
export interface ListenAddress {
  host: string;
  port: number;
}

interface TypeStatus {
  typeUrl: string;
  /** `wildcard`, or the names Envoy asked for. */
  subscribed: 'wildcard' | string[];
  acked?: string;
  nack?: { version: string; message: string; at: string };
}

export interface NodeStatus {
  node: string;
  stream: number;
  protocol: 'sotw' | 'delta';
  connectedAt: string;
  types: TypeStatus[];
}

/** Either protocol's request; each state reads the fields of its own. */
export type DiscoveryRequest = DiscoveryRequestLike &
  DeltaDiscoveryRequestLike & { node?: { id?: string; cluster?: string }; version_info?: string };

/** What the two protocols' stream states have in common: the server treats them alike. */
interface ProtocolState {
  onRequest(
    req: DiscoveryRequest,
    snapshot: Snapshot | undefined,
  ): { outcome: RequestOutcome; responses: Array<{ type_url: string; nonce: string }> };
  onSnapshot(snapshot: Snapshot): Array<{ type_url: string; nonce: string }>;
  inSync(snapshot: Snapshot): boolean;
}

export interface RejectedSnapshot {
  version: string;
  node: string;
  typeUrl: string;
  message: string;
  at: string;
  /** True while the rolled-back config serves, i.e. until the next config edit. */
  active: boolean;
}

/** `synced`: every connected Envoy runs the latest config; `settled`: and nothing more is on its way to them. */
export type AdsEvent = RequestOutcome | 'snapshot' | 'stream-closed' | 'synced' | 'settled';

export type AdsCall = grpc.ServerDuplexStream<DiscoveryRequest, object>;

export interface Stream {
  id: number;
  node: string;
  protocol: 'sotw' | 'delta';
  connectedAt: Date;
  state: ProtocolState & (AdsStreamState | DeltaStreamState);
  call: AdsCall;
  /** The client certificate the stream was opened with (`local`: the private socket). */
  peer: Uint8Array | 'local' | undefined;
}

export interface AdsPackage {
  envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: { service: grpc.ServiceDefinition } } } } };
}
