// A simulated Envoy for the fan-out bench: one ADS stream over the control channel with a client certificate of its
// own, subscribing as Envoy does (clusters and listeners as wildcards, then the route configurations, secrets and
// endpoints they name), ACKing every response at once (SotW: version and nonce; delta: the nonce, with the
// resources held by name and version). It decodes only what it needs to know what to ask for next, and what the
// bench's probe reads in the route configurations; identical bytes sent to many clients are decoded once.
import * as grpc from '@grpc/grpc-js';
import { loadResourceRoot, loadServiceDefinitions, ResourceCodec, TYPE_URL } from '../src/envoy-api/index.js';

type Json = Record<string, unknown>;
interface Any {
  type_url: string;
  value: Buffer;
}
interface SotwResponse {
  type_url: string;
  version_info?: string;
  nonce: string;
  resources?: Any[];
}
interface DeltaResponse {
  type_url: string;
  nonce: string;
  resources?: Array<{ name: string; version: string; resource: Any }>;
  removed_resources?: string[];
}

const ENDPOINTS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
/** The named types, each with the field of a resource summary that lists the names it asks for. */
const NAMED: ReadonlyArray<[string, 'routes' | 'secrets' | 'endpoints']> = [
  [TYPE_URL.routeConfiguration, 'routes'],
  [TYPE_URL.secret, 'secrets'],
  [ENDPOINTS, 'endpoints'],
];

/** What one resource makes Envoy ask for, and what the probe reads in it (route configurations only). */
interface Summary {
  name: string;
  routes: string[];
  secrets: string[];
  endpoints: string[];
  probe: string | undefined;
}

/** Reads a route configuration: the value the bench waits for (for example the cluster of one host's route). */
export type RouteProbe = (routeConfiguration: Json) => string | undefined;

const codec = new ResourceCodec(loadResourceRoot());
const summaries = new Map<string, Summary>();

function summarize(key: string, any: Any, probe: RouteProbe): Summary {
  let s = summaries.get(key);
  if (s) return s;
  const decoded = codec.decode(any);
  const found = { routes: new Set<string>(), secrets: new Set<string>(), endpoints: new Set<string>() };
  if (any.type_url !== TYPE_URL.routeConfiguration) referenced(decoded, found);
  if (any.type_url === TYPE_URL.cluster && decoded['type'] === 'EDS') {
    const eds = decoded['eds_cluster_config'] as Json | undefined;
    found.endpoints.add(String(eds?.['service_name'] ?? decoded['name']));
  }
  s = {
    name: String(decoded['name']),
    routes: [...found.routes],
    secrets: [...found.secrets],
    endpoints: [...found.endpoints],
    probe: any.type_url === TYPE_URL.routeConfiguration ? probe(decoded) : undefined,
  };
  // A few distinct versions per edit; the bound only keeps a long run from growing.
  if (summaries.size > 20_000) summaries.clear();
  summaries.set(key, s);
  return s;
}

/** Route configuration names (`route_config_name`) and secret names (`{ name, sds_config }`) anywhere inside. */
function referenced(value: unknown, out: { routes: Set<string>; secrets: Set<string> }): void {
  if (Array.isArray(value)) for (const v of value) referenced(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as Json;
    if (typeof o['route_config_name'] === 'string') out.routes.add(o['route_config_name']);
    if (typeof o['name'] === 'string' && 'sds_config' in o) out.secrets.add(o['name']);
    for (const v of Object.values(o)) referenced(v, out);
  }
}

type AdsClient = grpc.Client & {
  StreamAggregatedResources(): grpc.ClientDuplexStream<object, SotwResponse>;
  DeltaAggregatedResources(): grpc.ClientDuplexStream<object, DeltaResponse>;
};
let adsConstructor: grpc.ServiceClientConstructor | undefined;

export interface SimulatedEnvoyOptions {
  target: string;
  credentials: grpc.ChannelCredentials;
  nodeId: string;
  protocol: 'sotw' | 'delta';
  probe: RouteProbe;
}

export class SimulatedEnvoy {
  /** Per type: name → summary of the resource held. */
  private readonly held = new Map<string, Map<string, Summary>>();
  /** Per named type: the names subscribed to (sorted). */
  private readonly subscribed = new Map<string, string[]>();
  /** SotW: per type, the last version and nonce (what a new subscription request carries). */
  private readonly last = new Map<string, { version: string; nonce: string }>();
  /** Types asked for (or asked for anew) that have not answered yet. */
  private readonly waiting = new Set<string>();
  private readonly client: AdsClient;
  private readonly stream: grpc.ClientDuplexStream<object, SotwResponse | DeltaResponse>;
  private sentNode = false;
  private probed: { value: string | undefined; at: number } = { value: undefined, at: 0 };
  private waiter: { value: string; resolve: (at: number) => void } | undefined;
  /** Why the stream ended, if it did (the bench treats it as a failure). */
  error: string | undefined;
  responses = 0;

  constructor(private readonly o: SimulatedEnvoyOptions) {
    adsConstructor ??= (
      grpc.loadPackageDefinition(loadServiceDefinitions()) as unknown as {
        envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
      }
    ).envoy.service.discovery.v3.AggregatedDiscoveryService;
    this.client = new adsConstructor(o.target, o.credentials, {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
    }) as unknown as AdsClient;
    this.stream =
      o.protocol === 'sotw' ? this.client.StreamAggregatedResources() : this.client.DeltaAggregatedResources();
    this.stream.on('data', (r: SotwResponse | DeltaResponse) => this.onResponse(r));
    this.stream.on('error', (e: grpc.ServiceError) => {
      if (e.code !== grpc.status.CANCELLED) this.error ??= `${o.nodeId}: ${e.code} ${e.details}`;
    });
    // Envoy asks for clusters first, and for listeners once the clusters have arrived.
    this.request(TYPE_URL.cluster, []);
  }

  /** Resolves with the time (Date.now) of the ACK after which the route probe first read `value`. */
  reached(value: string): Promise<number> {
    if (this.probed.value === value) return Promise.resolve(this.probed.at);
    return new Promise((resolve) => (this.waiter = { value, resolve }));
  }

  /** Whether every type asked for has answered. */
  get settled(): boolean {
    return this.waiting.size === 0 && this.held.has(TYPE_URL.listener);
  }

  stop(): void {
    this.stream.cancel();
    this.client.close();
  }

  private write(message: Json): void {
    if (!this.sentNode) message = { node: { id: this.o.nodeId, cluster: 'mtls-edge' }, ...message };
    this.sentNode = true;
    this.stream.write(message);
  }

  /** A first or changed subscription: SotW names the whole set, delta only what changes. */
  private request(typeUrl: string, names: string[], before: string[] = []): void {
    this.waiting.add(typeUrl);
    if (this.o.protocol === 'delta') {
      const subscribe = names.filter((n) => !before.includes(n));
      const unsubscribe = before.filter((n) => !names.includes(n));
      this.write({ type_url: typeUrl, resource_names_subscribe: subscribe, resource_names_unsubscribe: unsubscribe });
      return;
    }
    const last = this.last.get(typeUrl);
    this.write({
      type_url: typeUrl,
      resource_names: names,
      ...(last ? { version_info: last.version, response_nonce: last.nonce } : {}),
    });
  }

  private onResponse(r: SotwResponse | DeltaResponse): void {
    this.responses++;
    const typeUrl = r.type_url;
    const held = this.held.get(typeUrl) ?? new Map<string, Summary>();
    if (this.o.protocol === 'sotw') {
      // State of the world: the response is everything of the type this stream subscribes to.
      const s = r as SotwResponse;
      held.clear();
      (s.resources ?? []).forEach((any, i) => {
        const summary = summarize(`${typeUrl}|${s.version_info}|${i}`, any, this.o.probe);
        held.set(summary.name, summary);
      });
      this.last.set(typeUrl, { version: s.version_info ?? '', nonce: s.nonce });
      this.write({
        type_url: typeUrl,
        version_info: s.version_info ?? '',
        response_nonce: s.nonce,
        resource_names: this.subscribed.get(typeUrl) ?? [],
      });
    } else {
      const d = r as DeltaResponse;
      for (const res of d.resources ?? [])
        held.set(res.name, summarize(`${typeUrl}|${res.name}|${res.version}`, res.resource, this.o.probe));
      for (const name of d.removed_resources ?? []) held.delete(name);
      this.write({ type_url: typeUrl, response_nonce: d.nonce });
    }
    const ackedAt = Date.now();
    this.held.set(typeUrl, held);
    this.waiting.delete(typeUrl);
    if (typeUrl === TYPE_URL.cluster && !this.subscribed.has(TYPE_URL.listener)) {
      this.subscribed.set(TYPE_URL.listener, []);
      this.request(TYPE_URL.listener, []);
    }
    this.resubscribe();
    this.checkProbe(ackedAt);
  }

  /** Asks for the named resources that the clusters and listeners held now name, when that set changed. */
  private resubscribe(): void {
    const sources = [
      ...(this.held.get(TYPE_URL.cluster)?.values() ?? []),
      ...(this.held.get(TYPE_URL.listener)?.values() ?? []),
    ];
    for (const [typeUrl, field] of NAMED) {
      const names = [...new Set(sources.flatMap((s) => s[field]))].sort();
      const before = this.subscribed.get(typeUrl) ?? [];
      if (names.join('\0') === before.join('\0')) continue;
      this.subscribed.set(typeUrl, names);
      this.request(typeUrl, names, before);
    }
  }

  /** `probed`: what the probe reads while every type asked for has answered, and since which ACK. */
  private checkProbe(at: number): void {
    let value: string | undefined;
    if (this.waiting.size === 0)
      for (const s of this.held.get(TYPE_URL.routeConfiguration)?.values() ?? []) value ??= s.probe;
    if (value !== this.probed.value) this.probed = { value, at };
    const w = this.waiter;
    if (w && this.probed.value === w.value) {
      this.waiter = undefined;
      w.resolve(this.probed.at);
    }
  }
}
