import * as grpc from '@grpc/grpc-js';
import { loadResourceRoot, loadServiceDefinitions, ResourceCodec } from '../../control-plane/src/envoy-api/index.js';

// An ADS client that asks for everything an Envoy would (clusters and listeners, then the route configurations and
// secrets they name), ACKs each response, and returns what was served: per type, the version and each resource's
// bytes. Two replicas of one config must return the same.

const TYPES = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

interface Any {
  type_url: string;
  value: Buffer;
}
interface Response {
  type_url: string;
  version_info: string;
  nonce: string;
  resources: Any[];
}

export interface ServedType {
  version: string;
  /** Resource name → its bytes (hex), in the order served. */
  resources: Record<string, string>;
  /** The resources as objects, for a test to read. */
  decoded: Array<Record<string, unknown>>;
}

const codec = new ResourceCodec(loadResourceRoot());

type AdsClient = grpc.Client & { StreamAggregatedResources(): grpc.ClientDuplexStream<object, Response> };

export async function fetchServed(
  target: string,
  credentials: grpc.ChannelCredentials,
  nodeId: string,
  timeoutMs = 10_000,
): Promise<Record<keyof typeof TYPES, ServedType>> {
  const pkg = grpc.loadPackageDefinition(loadServiceDefinitions()) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
  };
  const Ads = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
  const client = new Ads(target, credentials, {
    'grpc.ssl_target_name_override': 'localhost',
  }) as unknown as AdsClient;
  const stream = client.StreamAggregatedResources();
  const served = new Map<string, Response>();
  const waiters = new Map<string, (r: Response) => void>();
  const failed = new Promise<never>((_, reject) => {
    stream.on('error', (e) => reject(e));
    setTimeout(() => reject(new Error(`no answer from ${target} for every type in ${timeoutMs} ms`)), timeoutMs);
  });
  failed.catch(() => {});
  stream.on('data', (r: Response) => {
    served.set(r.type_url, r);
    stream.write({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, ...namesOf(r) });
    waiters.get(r.type_url)?.(r);
  });
  const next = (typeUrl: string, names?: string[]) => {
    const got = new Promise<Response>((resolve) => waiters.set(typeUrl, resolve));
    stream.write({ node: { id: nodeId, cluster: 'mtls-edge' }, type_url: typeUrl, resource_names: names ?? [] });
    return Promise.race([got, failed]);
  };
  const names: Record<string, string[]> = {};
  const namesOf = (r: Response) => (names[r.type_url] ? { resource_names: names[r.type_url] } : {});
  try {
    const [clusters, listeners] = [await next(TYPES.cluster), await next(TYPES.listener)];
    const decoded = [...clusters.resources, ...listeners.resources].map((a) => codec.decode(a));
    names[TYPES.routes] = [...referenced(decoded, 'routes')].sort();
    names[TYPES.secret] = [...referenced(decoded, 'secret')].sort();
    await next(TYPES.routes, names[TYPES.routes]);
    await next(TYPES.secret, names[TYPES.secret]);
  } finally {
    stream.cancel();
    client.close();
  }
  const view = (typeUrl: string): ServedType => {
    const r = served.get(typeUrl);
    if (!r) throw new Error(`${typeUrl} was not served`);
    const decoded = r.resources.map((a) => codec.decode(a));
    const resources = Object.fromEntries(
      r.resources.map((a, i) => [String(decoded[i]?.['name']), Buffer.from(a.value).toString('hex')]),
    );
    return { version: r.version_info, resources, decoded };
  };
  return {
    cluster: view(TYPES.cluster),
    listener: view(TYPES.listener),
    routes: view(TYPES.routes),
    secret: view(TYPES.secret),
  };
}

/** Route configuration names (`route_config_name`) or secret names (`{ name, sds_config }`) anywhere in `values`. */
function referenced(values: unknown, kind: 'routes' | 'secret', out = new Set<string>()): Set<string> {
  if (Array.isArray(values)) for (const v of values) referenced(v, kind, out);
  else if (typeof values === 'object' && values !== null) {
    const o = values as Record<string, unknown>;
    if (kind === 'routes' && typeof o['route_config_name'] === 'string') out.add(o['route_config_name']);
    if (kind === 'secret' && typeof o['name'] === 'string' && 'sds_config' in o) out.add(o['name']);
    for (const v of Object.values(o)) referenced(v, kind, out);
  }
  return out;
}
