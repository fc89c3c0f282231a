import type { SignInModel } from '../../model/index.js';
import { typed, type envoy_extensions_filters_http_oauth2_v3 as oauth2_v3 } from '../../envoy-api/index.js';
import type { envoy_config_route_v3, google_protobuf } from '../../envoy-api/index.js';
import { INTERNAL_HEADER_PREFIX } from '../../policy/internal-headers.js';
import { buildCluster } from '../cluster.js';
import { duration, sdsSecretConfig } from '../common.js';
import type { ChainContext, FilterResources, HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const SIGN_IN_FILTER = 'mtls-edge.sign-in' as const;

/** Where the oauth2 filter puts the session's ID token (decrypted) for the session-token filter to validate. */
export const ID_TOKEN_HEADER = `${INTERNAL_HEADER_PREFIX}id-token`;
/** Pomerium's paths, on every host of a sign-in edge: the provider's redirect back, and sign-out. */
export const CALLBACK_PATH = '/.pomerium/callback';
export const SIGN_OUT_PATH = '/.pomerium/sign_out';
/** With authenticate_service_url, every sign-in returns to this path of that one origin. */
export const AUTHENTICATE_CALLBACK_PATH = '/oauth2/callback';
const CLIENT_SECRET = 'idp-client-secret';
const COOKIE_SECRET = 'idp-cookie-secret';
const FILTER_CONFIG = 'envoy.config.route.v3.FilterConfig';

type SameSite = oauth2_v3.CookieConfig_SameSite;
const SAME_SITE: Record<SignInModel['config']['cookieSameSite'], SameSite> = {
  lax: 'LAX',
  none: 'NONE',
};

/**
 * Envoy's oauth2 filter runs the authorization-code flow (with PKCE and a state bound to an HMAC-signed nonce
 * cookie), keeps the session in cookies signed and encrypted with cookie_secret, and hands each request's ID
 * token to the session-token filter in an internal header. Only routes that need sign-in (and the callback and
 * sign-out paths) keep it on.
 */
function oauth2Filter(signIn: SignInModel): HttpFilter | undefined {
  const { config, provider } = signIn;
  if (provider === undefined) return undefined;
  const name = config.cookieName;
  // Lax or None (config/identity-provider.ts refuses Strict): the flow's cookies must come back with the provider's
  // redirect, a cross-site navigation, and the session's on the page it redirects to next.
  const session: oauth2_v3.CookieConfig = { same_site: SAME_SITE[config.cookieSameSite] };
  const callback = config.authenticateServiceUrl
    ? `${config.authenticateServiceUrl}${AUTHENTICATE_CALLBACK_PATH}`
    : `${signIn.origin}${CALLBACK_PATH}`;
  return {
    name: SIGN_IN_FILTER,
    typed_config: typed('envoy.extensions.filters.http.oauth2.v3.OAuth2', {
      config: {
        token_endpoint: { cluster: signIn.tokenEndpoint!.name, uri: provider.tokenEndpoint, timeout: duration(5000) },
        // A code is good once: a retry after the provider answered would fail anyway, so only failed connections.
        retry_policy: { retry_on: 'connect-failure,refused-stream', num_retries: { value: 2 } },
        authorization_endpoint: provider.authorizationEndpoint,
        ...(provider.endSessionEndpoint ? { end_session_endpoint: provider.endSessionEndpoint } : {}),
        credentials: {
          client_id: config.clientId,
          token_secret: sdsSecretConfig(CLIENT_SECRET),
          hmac_secret: sdsSecretConfig(COOKIE_SECRET),
          cookie_names: {
            bearer_token: `${name}_at`,
            oauth_hmac: name,
            oauth_expires: `${name}_exp`,
            id_token: `${name}_id`,
            refresh_token: `${name}_rt`,
            oauth_nonce: `${name}_csrf`,
            code_verifier: `${name}_pkce`,
          },
          ...(config.cookieDomain ? { cookie_domain: config.cookieDomain } : {}),
        },
        redirect_uri: callback,
        redirect_path_matcher: {
          path: { exact: config.authenticateServiceUrl ? AUTHENTICATE_CALLBACK_PATH : CALLBACK_PATH },
        },
        signout_path: { path: { exact: SIGN_OUT_PATH } },
        ...(provider.endSessionEndpoint ? { post_logout_redirect_uri: { uri: `${signIn.origin}/` } } : {}),
        original_request_uri: signIn.origin,
        // The page a sign-in returns to comes back in the state: only this edge's hosts (an empty list allows any).
        allowed_redirect_domains: signIn.redirectHosts.length > 0 ? signIn.redirectHosts : ['invalid'],
        forward_id_token: { header: ID_TOKEN_HEADER },
        // The client's own Authorization header is the upstream's business, as it is on routes without sign-in.
        preserve_authorization_header: true,
        auth_scopes: config.scopes,
        auth_type: 'BASIC_AUTH',
        default_expires_in: duration(config.cookieExpireSeconds * 1000),
        // The edge reads the ID token, never the access token: not keeping it in a cookie spares a cookie and its
        // decryption on every request (and keeps it from the upstream, which gets the request's cookies).
        disable_access_token_set_cookie: true,
        // A script or a command-line client gets 401, not a redirect to a login page it cannot fill in.
        deny_redirect_matcher: [NOT_A_BROWSER],
        cookie_configs: {
          bearer_token_cookie_config: session,
          oauth_hmac_cookie_config: session,
          oauth_expires_cookie_config: session,
          id_token_cookie_config: session,
          refresh_token_cookie_config: session,
          oauth_nonce_cookie_config: session,
          code_verifier_cookie_config: session,
        },
        stat_prefix: 'sign_in',
      },
    }),
  };
}

/** A request that does not accept HTML (no `text/html` in Accept, or no Accept at all). */
const NOT_A_BROWSER: envoy_config_route_v3.HeaderMatcher = {
  name: 'accept',
  string_match: { contains: 'text/html' },
  invert_match: true,
  treat_missing_header_as_empty: true,
};

/**
 * Off for every route but those that need sign-in and the edge's own sign-in paths. (The filter is on in the chain
 * and turned off per route: Envoy refuses a per-route config that would turn a filter on without a config of its
 * own, and a copy of the whole config on each signed-in route would cost more.)
 */
function signInPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (ctx.chain.signIn?.provider === undefined) return undefined;
  const on = ctx.kind === 'sign-in' || (ctx.kind === 'host-route' && ctx.route.signIn);
  return on ? undefined : OFF;
}
const OFF = typed(FILTER_CONFIG, { disabled: true });

function signInResources(signIn: SignInModel | undefined): FilterResources {
  if (signIn?.provider === undefined || signIn.tokenEndpoint === undefined) return {};
  const { config } = signIn;
  const generic = (name: string, secret: string) => ({
    name,
    resource: { name, generic_secret: { secret: { inline_string: secret } } },
  });
  return {
    clusters: [buildCluster(signIn.tokenEndpoint)],
    secrets: [
      generic(CLIENT_SECRET, config.clientSecret),
      generic(COOKIE_SECRET, config.cookieSecret.toString('base64')),
    ],
  };
}

/** After the client-certificate check: a route that needs a certificate refuses without one before any redirect. */
export const signIn: HttpFilterModule<typeof SIGN_IN_FILTER> = {
  name: SIGN_IN_FILTER,
  connectionManagerEntry: (chain: ChainContext) => (chain.signIn ? oauth2Filter(chain.signIn) : undefined),
  perRoute: signInPerRoute,
  resources: (model) => signInResources(model.signIn),
};
