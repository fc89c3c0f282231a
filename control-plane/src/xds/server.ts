import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadServiceDefinitions, TYPE_URL } from '../envoy-api/index.js';
import { keepRemoved, rollBackType, type Snapshot } from './snapshot.js';
import { DeltaStreamState } from './delta-stream-state.js';
import { AdsStreamState } from './stream-state.js';
import { PeerPolicy } from './peer-policy.js';
import { EnvoyFleet, streamStatus } from './fleet.js';
import { OpenStreams } from './open-streams.js';
import { guardUnaryMethods, peerOf } from './control-channel.js';
import type {
  AdsCall,
  AdsEvent,
  AdsPackage,
  DiscoveryRequest,
  ListenAddress,
  NodeStatus,
  RejectedSnapshot,
  Stream,
} from './ads-types.js';

/** ADS (state of the world) over gRPC. It never builds config: it serves whatever snapshot it was given. */
export class AdsServer {
  private snapshot: Snapshot | undefined;
  private readonly streams = new OpenStreams();
  private readonly server = new grpc.Server({
    // Thousands of routes make large responses; Envoy's requests carry NACK details that can be large too.
    'grpc.max_send_message_length': 256 * 1024 * 1024,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // Envoy's xDS keepalive pings must not be punished with GOAWAY.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  });
  private nextStreamId = 1;
  /** The newest snapshot every connected Envoy acknowledged: what a rejected snapshot is rolled back to. */
  private lastGood: Snapshot | undefined;
  private lastRejected: RejectedSnapshot | undefined;
  /** When every connected Envoy had acknowledged the current snapshot, and which snapshot that was. */
  private synced: { version: string; at: Date } | undefined;
  /** The snapshot that first carries the latest config (staged, if clusters are being removed). */
  private editVersion: string | undefined;
  /** The snapshot to serve once Envoy has acknowledged the staged one that still holds removed clusters. */
  private pendingPrune: Snapshot | undefined;
  private readonly listeners: Array<(event: AdsEvent) => void> = [];
  /** Set once a private Unix socket is bound: a connection without a remote address then comes through it. */
  private servesPrivateSocket = false;
  /** Every Envoy served, by node id, connected or not: /status and the per-Envoy metrics. */
  readonly fleet = new EnvoyFleet();
  /** Addresses the gRPC server is bound to (a Unix socket, a TCP port, or both). */
  private bound = 0;
  private closing = false;

  /** `peers`: who may use the channel, with the current client CA and `xds_node_ids`. */
  constructor(
    private readonly log: Logger,
    private readonly peers: PeerPolicy = new PeerPolicy(),
  ) {
    const pkg = grpc.loadPackageDefinition(loadServiceDefinitions()) as unknown as AdsPackage;
    const service = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService.service;
    this.server.addService(service, {
      StreamAggregatedResources: (call: AdsCall) => this.handleStream(call, 'sotw'),
      DeltaAggregatedResources: (call: AdsCall) => this.handleStream(call, 'delta'),
    });
  }

  /**
   * Serves another gRPC service (ext_authz) on the same port; call it before `listen`. Its unary methods answer only
   * callers whose certificate names a node this control plane serves (or `run`'s own Envoy on the private socket).
   */
  addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(
      definition,
      guardUnaryMethods(implementation, {
        servesPrivateSocket: () => this.servesPrivateSocket,
        peers: this.peers,
        log: this.log,
      }),
    );
  }

  /** A TCP port: always TLS with a client certificate required (the credentials say which CA). */
  listen(address: ListenAddress, credentials: grpc.ServerCredentials): Promise<number> {
    if (!credentials._isSecure()) return Promise.reject(new Error('the control channel listens on TCP only with TLS'));
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    return this.bind(`${host}:${address.port}`, credentials);
  }

  /** A Unix socket in a folder only this user can enter: the private channel of `run`'s own Envoy. */
  async listenPrivateSocket(path: string): Promise<void> {
    this.servesPrivateSocket = true;
    await this.bind(`unix:${path}`, grpc.ServerCredentials.createInsecure());
  }

  private bind(target: string, credentials: grpc.ServerCredentials): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync(target, credentials, (err, port) => {
        if (err) return reject(err);
        this.bound++;
        resolve(port);
      }),
    );
  }

  /**
   * A new config: it replaces whatever is served, including a rolled-back one. Clusters it drops stay until
   * every Envoy has acknowledged the rest (make before break), then a second push removes them.
   */
  setSnapshot(snapshot: Snapshot): void {
    if (this.lastRejected) this.lastRejected.active = false;
    const previous = this.snapshot;
    const staged = previous && this.streams.size > 0 ? keepRemoved(snapshot, previous, TYPE_URL.cluster) : snapshot;
    this.pendingPrune = staged === snapshot ? undefined : snapshot;
    this.editVersion = staged.version;
    this.serve(staged);
  }

  private serve(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    for (const s of this.streams) this.send(s, s.state.onSnapshot(snapshot));
    this.streams.recheckAll(snapshot);
    this.notify('snapshot');
  }

  get current(): Snapshot | undefined {
    return this.snapshot;
  }

  /** Has a valid snapshot, listens, is not shutting down: a readiness probe's question, never waiting for an Envoy. */
  servesXds(): boolean {
    return this.snapshot !== undefined && this.bound > 0 && !this.closing;
  }

  /** The snapshot version `stream` runs in full, if it runs the current one. */
  private syncedVersionOf(stream: Stream): string | undefined {
    return this.snapshot && this.streams.inSync(stream) ? this.snapshot.version : undefined;
  }

  /** At least one Envoy is connected and every connected Envoy has ACKed the current snapshot. */
  everyEnvoySynced(): boolean {
    return this.snapshot !== undefined && this.streams.allInSync();
  }

  /** When every connected Envoy last finished acknowledging a new snapshot (the end of a reload, as Envoy sees it). */
  get syncedAt(): Date | undefined {
    return this.synced?.at;
  }

  /** The last snapshot an Envoy refused (NACK), if any: which node, which type, and Envoy's reason. */
  get rejected(): RejectedSnapshot | undefined {
    return this.lastRejected;
  }

  status(): NodeStatus[] {
    return [...this.streams].map(streamStatus);
  }

  /** Called after anything that may change readiness or status. */
  onChange(listener: (event: AdsEvent) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    // A replica shutting down is not ready: a load balancer or Kubernetes stops sending it Envoys first.
    this.closing = true;
    for (const s of this.streams) s.call.end();
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private handleStream(call: AdsCall, protocol: 'sotw' | 'delta'): void {
    const state = protocol === 'sotw' ? new AdsStreamState() : new DeltaStreamState();
    const peer = peerOf(call, this.servesPrivateSocket);
    const stream: Stream = {
      id: this.nextStreamId++,
      node: '(unknown)',
      protocol,
      connectedAt: new Date(),
      state,
      call,
      peer,
    };
    let admitted = false;
    let refused = false;
    call.on('data', (req: DiscoveryRequest) => {
      if (refused) return;
      if (!admitted || (req.node?.id && req.node.id !== stream.node)) {
        // The first message names the node; a stream never changes node, and speaks only as the one its certificate
        // names.
        const nodeId = req.node?.id ?? '';
        const refusal = admitted ? 'a stream cannot change its node id' : this.peers.streamRefusal(nodeId, peer);
        if (refusal) {
          refused = true;
          return this.refuse(stream, nodeId, refusal);
        }
        stream.node = nodeId;
        admitted = true;
        // Only now does the stream count for readiness and get snapshots.
        this.streams.add(stream);
        this.fleet.connected(nodeId);
      }
      const { outcome, responses } = stream.state.onRequest(req, this.snapshot);
      this.streams.recheck(stream, this.snapshot);
      const fields = {
        node: stream.node,
        stream: stream.id,
        typeUrl: req.type_url,
        version: req.version_info,
        nonce: req.response_nonce,
      };
      if (outcome === 'nack') this.log.warn({ ...fields, error: req.error_detail?.message }, 'xds nack');
      else this.log.debug({ ...fields, outcome }, 'xds request');
      this.send(stream, responses);
      this.fleet.request(stream.node, outcome, req, () => this.syncedVersionOf(stream));
      if (outcome === 'ack' && this.everyEnvoySynced() && this.snapshot) {
        this.lastGood = this.snapshot;
        // Every Envoy now runs the edit (a staged snapshot already holds all of it, plus clusters on their way out).
        if (this.snapshot.version === this.editVersion && this.synced?.version !== this.editVersion) {
          this.synced = { version: this.editVersion, at: new Date() };
          this.notify('synced');
        }
        const prune = this.pendingPrune;
        this.pendingPrune = undefined;
        if (prune) this.serve(prune);
        else this.notify('settled');
      }
      if (outcome === 'nack') this.rollBack(stream.node, req);
      this.notify(outcome);
    });
    const drop = (why: string) => {
      if (!this.streams.delete(stream)) return;
      this.fleet.disconnected(stream.node);
      this.log.info({ node: stream.node, stream: stream.id, why }, 'xds stream closed');
      this.notify('stream-closed');
    };
    call.on('end', () => {
      drop('end');
      call.end();
    });
    call.on('error', (e) => drop(e.message));
    call.on('cancelled', () => drop('cancelled'));
    this.log.info({ stream: stream.id, protocol, peer: call.getPeer() }, 'xds stream opened');
  }

  /**
   * Asks again, for every open stream, whether its certificate and node may still use the channel (after the client
   * CA or xds_node_ids changed, or as certificates expire); ends those that may not. Envoy reconnects by itself.
   */
  recheckStreams(): void {
    for (const s of [...this.streams]) {
      const refusal = this.peers.streamRefusal(s.node, s.peer);
      if (refusal) this.refuse(s, s.node, refusal);
    }
  }

  private refuse(stream: Stream, nodeId: string, reason: string): void {
    this.log.warn({ node: nodeId, stream: stream.id, peer: stream.call.getPeer(), reason }, 'xds stream refused');
    if (this.streams.delete(stream)) {
      this.fleet.disconnected(stream.node);
      this.notify('stream-closed');
    }
    stream.call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: reason });
  }

  /**
   * Envoy keeps its last good config for a type it rejects. Serving the rejected snapshot on would hand it to
   * every Envoy that connects later, so that type goes back to what all of them accepted; the types Envoy
   * accepted stay (a CA removed in the same edit must not come back).
   */
  private rollBack(node: string, req: DiscoveryRequest): void {
    const rejected = this.snapshot;
    if (!rejected) return;
    this.pendingPrune = undefined; // it is the rejected config without its extra clusters
    this.lastRejected = {
      version: rejected.version,
      node,
      typeUrl: req.type_url,
      message: req.error_detail?.message ?? '',
      at: new Date().toISOString(),
      active: true,
    };
    if (this.lastGood && this.lastGood !== rejected) {
      const restored = rollBackType(rejected, this.lastGood, req.type_url);
      this.log.warn(
        { rejected: rejected.version, restored: restored.version, typeUrl: req.type_url, node },
        'envoy rejected part of the config; serving the last acknowledged version of that part',
      );
      this.serve(restored);
    }
  }

  private send(stream: Stream, responses: Array<{ type_url: string; nonce: string }>): void {
    for (const r of responses) {
      this.log.debug({ node: stream.node, typeUrl: r.type_url, nonce: r.nonce }, 'xds response');
      stream.call.write(r);
    }
  }

  private notify(event: AdsEvent): void {
    for (const l of this.listeners) l(event);
  }
}
