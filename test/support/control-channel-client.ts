import * as grpc from '@grpc/grpc-js';
import { loadAuthorizationService, type CheckRequest } from '../../control-plane/src/authz/index.js';
import { loadServiceDefinitions } from '../../control-plane/src/envoy-api/index.js';

const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface AdsAttempt {
  /** What the server sent before the stream ended (or the wait ran out). */
  responses: Array<{ type_url: string; resources?: unknown[] }>;
  /** The status the stream ended with, if it ended. */
  error?: { code: number; details: string };
}

let adsClientConstructor: grpc.ServiceClientConstructor | undefined;

function adsConstructor(): grpc.ServiceClientConstructor {
  if (!adsClientConstructor) {
    adsClientConstructor = (
      grpc.loadPackageDefinition(loadServiceDefinitions()) as unknown as {
        envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
      }
    ).envoy.service.discovery.v3.AggregatedDiscoveryService;
  }
  return adsClientConstructor;
}

/**
 * What any process that reaches the port could try: open an ADS stream as `nodeId` and ask for listeners and
 * secrets (the server's private key), like an Envoy would. Resolves after the first response or the stream's end.
 */
export function tryAdsStream(
  target: string,
  credentials: grpc.ChannelCredentials,
  nodeId: string,
  timeoutMs = 5_000,
): Promise<AdsAttempt> {
  const client = new (adsConstructor())(target, credentials, {
    'grpc.ssl_target_name_override': 'localhost',
  }) as unknown as grpc.Client & {
    StreamAggregatedResources(): grpc.ClientDuplexStream<object, AdsAttempt['responses'][number]>;
  };
  return new Promise((resolve) => {
    const attempt: AdsAttempt = { responses: [] };
    const stream = client.StreamAggregatedResources();
    const finish = () => {
      clearTimeout(timer);
      stream.cancel();
      client.close();
      resolve(attempt);
    };
    const timer = setTimeout(finish, timeoutMs);
    stream.on('data', (r: AdsAttempt['responses'][number]) => {
      attempt.responses.push(r);
      finish();
    });
    stream.on('error', (e: grpc.ServiceError) => {
      attempt.error ??= { code: e.code, details: e.details };
      finish();
    });
    stream.write({ node: { id: nodeId, cluster: 'mtls-edge' }, type_url: LISTENER_TYPE });
    stream.write({ type_url: SECRET_TYPE });
  });
}

/** A long-lived ADS stream: its first response, and how it ends (the server may end it later). */
export function openAdsStream(target: string, credentials: grpc.ChannelCredentials, nodeId: string) {
  const client = new (adsConstructor())(target, credentials, {
    'grpc.ssl_target_name_override': 'localhost',
  }) as unknown as grpc.Client & {
    StreamAggregatedResources(): grpc.ClientDuplexStream<object, AdsAttempt['responses'][number]>;
  };
  const stream = client.StreamAggregatedResources();
  const first = new Promise<AdsAttempt['responses'][number]>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    stream.on('error', (e: grpc.ServiceError) => {
      client.close();
      resolve({ code: e.code, details: e.details });
    });
  });
  stream.on('data', () => {});
  stream.write({ node: { id: nodeId, cluster: 'mtls-edge' }, type_url: LISTENER_TYPE });
  return { stream, first, ended };
}

type CheckClient = grpc.Client & {
  Check(req: CheckRequest, cb: (err: grpc.ServiceError | null, res: CheckWire) => void): void;
};

export interface CheckWire {
  status?: { code?: number; message?: string };
  ok_response?: { headers?: Array<{ header?: { key?: string; value?: string } }> };
  denied_response?: { body?: string };
}

/** Calls the ext_authz Check on the control channel; resolves with the response or the gRPC error. */
export function tryCheck(
  target: string,
  credentials: grpc.ChannelCredentials,
  request: CheckRequest,
): Promise<{ response?: CheckWire; error?: { code: number; details: string } }> {
  const Client = grpc.makeGenericClientConstructor(loadAuthorizationService(), 'Authorization');
  const client = new Client(target, credentials, {
    'grpc.ssl_target_name_override': 'localhost',
  }) as unknown as CheckClient;
  return new Promise((resolve) => {
    client.Check(request, (err, res) => {
      client.close();
      resolve(err ? { error: { code: err.code, details: err.details } } : { response: res });
    });
  });
}
