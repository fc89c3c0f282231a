import type { SignInModel } from '../../model/index.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import { SESSION_PAYLOAD_KEY } from '../../policy/index.js';
import { ID_TOKEN_HEADER } from './sign-in.js';
import type { ChainContext, HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const SESSION_TOKEN_FILTER = 'mtls-edge.session-token' as const;
const PROVIDER = 'idp';
const SIGNED_IN = 'signed_in';

/**
 * Envoy's jwt_authn filter validates the session's ID token on every request of a signed-in route: the issuer
 * and audience (our client id), the expiry, and the signature against the provider's keys, which the control
 * plane read and puts here (a new key at the provider reaches Envoy with the next discovery). The payload goes
 * into the request's metadata, where the policy's RBAC rules read the claims; the token itself goes no further.
 */
function jwtAuthnFilter(signIn: SignInModel): HttpFilter | undefined {
  const { config, provider } = signIn;
  if (provider === undefined) return undefined;
  return {
    name: SESSION_TOKEN_FILTER,
    typed_config: typed('envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', {
      providers: {
        [PROVIDER]: {
          issuer: provider.issuer,
          audiences: [config.clientId],
          require_expiration: true,
          local_jwks: { inline_string: provider.jwksJson },
          from_headers: [{ name: ID_TOKEN_HEADER }],
          forward: false,
          payload_in_metadata: SESSION_PAYLOAD_KEY,
          // Clocks drift: a token a few seconds past its expiry (or before its start) by this clock still counts.
          clock_skew_seconds: 10,
          // A session sends the same token on every request: a verified one is kept (until its expiry) instead of
          // checking its signature again each time.
          jwt_cache_config: { jwt_cache_size: 10_000 },
        },
      },
      requirement_map: { [SIGNED_IN]: { provider_name: PROVIDER } },
    }),
  };
}

function sessionTokenPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (ctx.chain.signIn?.provider === undefined || ctx.kind !== 'host-route' || !ctx.route.signIn) return undefined;
  return typed('envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig', { requirement_name: SIGNED_IN });
}

/** Right after sign-in: the token it hands over is validated before any policy reads a claim. */
export const sessionToken: HttpFilterModule<typeof SESSION_TOKEN_FILTER> = {
  name: SESSION_TOKEN_FILTER,
  connectionManagerEntry: (chain: ChainContext) => (chain.signIn ? jwtAuthnFilter(chain.signIn) : undefined),
  perRoute: sessionTokenPerRoute,
};
