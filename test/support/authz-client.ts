// A client of the control plane's ext_authz service, to call Check directly as anyone who can reach the
// gRPC port could (not through Envoy): the service must hold up on its own.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import {
  loadAuthorizationService,
  type AuthorizationRoute,
  type CheckRequest,
  type CheckResponse,
} from '../../control-plane/src/authz/index.js';
import { loadConfigFile } from '../../control-plane/src/config/index.js';
import { buildEdgeModel } from '../../control-plane/src/model/index.js';
import { jwksDocument, SigningKeys } from '../../control-plane/src/runtime/signing-keys.js';
import type { RunningEdge } from './edge.js';

export interface CheckClient {
  check(request: CheckRequest): Promise<CheckResponse>;
  close(): void;
}

/** The control plane's gRPC port (xDS and ext_authz), from the address line the harness wrote. */
function grpcPort(edge: RunningEdge): number {
  const match = /^xds_address: 127\.0\.0\.1:(\d+)$/m.exec(readFileSync(edge.configPath, 'utf8'));
  if (!match) throw new Error(`no xds_address in ${edge.configPath}`);
  return Number(match[1]);
}

/**
 * The one place a test's Check client is made. The port requires mutual TLS: `credentials` carry a client
 * certificate from the control channel's CA (an authenticated caller that is not Envoy).
 */
export function checkClient(edge: RunningEdge, credentials: grpc.ChannelCredentials): CheckClient {
  const Client = grpc.makeGenericClientConstructor(loadAuthorizationService(), 'Authorization');
  const client = new Client(`127.0.0.1:${grpcPort(edge)}`, credentials);
  return {
    check: (request) =>
      new Promise((resolve, reject) => {
        const call = (
          client as unknown as Record<
            string,
            (
              r: CheckRequest,
              m: grpc.Metadata,
              o: grpc.CallOptions,
              cb: (e: grpc.ServiceError | null, r?: CheckResponse) => void,
            ) => void
          >
        )['Check']!;
        call.call(client, request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, response) =>
          err || !response ? reject(err ?? new Error('no response')) : resolve(response),
        );
      }),
    close: () => client.close(),
  };
}

/**
 * The keys Envoy sends as context_extensions.route for the ext_authz routes of `host`. Envoy's config dump
 * redacts context extensions (a sensitive field), so they are computed from the edge's config file, with the
 * same pipeline the control plane runs on it.
 */
export async function extAuthzRouteKeys(edge: RunningEdge, host: string): Promise<string[]> {
  return (await extAuthzRoutes(edge, host)).map((r) => r.name);
}

/** The ext_authz routes of `host` as the control plane builds them from the edge's config file (with their trust). */
export async function extAuthzRoutes(edge: RunningEdge, host: string): Promise<AuthorizationRoute[]> {
  const loaded = loadConfigFile(edge.configPath, process.env);
  if (!loaded.result.ok) throw new Error(`config does not load: ${JSON.stringify(loaded.result.errors)}`);
  // The published keys are part of an identity route's key: read them as the edge does (its key file is made by now).
  const keys = await new SigningKeys(edge.configPath, process.env).forConfig(loaded.result.value);
  if (!keys.ok) throw new Error(`signing keys do not load: ${JSON.stringify(keys.errors)}`);
  const model = buildEdgeModel(loaded.result.value, { jwks: jwksDocument(keys.value.published) });
  if (!model.ok) throw new Error(`config does not build: ${JSON.stringify(model.errors)}`);
  // `trust.*` entries only re-verify certificates on connections made under an older trust (model/trust.ts).
  return model.value.authorizationRoutes.filter((r) => r.audience === host && !r.name.startsWith('trust.'));
}
