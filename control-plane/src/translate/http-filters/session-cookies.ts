// The session's cookies stay at the edge, on every route of a host that signs people in: a route that needs no
// sign-in (public, or a certificate's only) must not hand them to its upstream either, which could present them on
// a signed-in route as the user. On the routes that need sign-in, Envoy's oauth2 filter has also written the ID
// token's cookie back decrypted. So on every route of a sign-in chain, once the token was validated, two of Envoy's
// own filters (a Lua script took twice their instructions):
// - session-cookies (header_to_metadata) takes the Cookie header out of the request, and keeps it in the request's
//   metadata without every cookie named `cookie_name` or `cookie_name_…` (the session's and the flow's);
// - app-cookies (header_mutation) writes that back as the Cookie header: the application's own cookies go on, or
//   no Cookie header at all when none is left.
// Envoy keeps no metadata value of 8 KiB or more: a request whose own cookies come to that loses them (the
// session's never reach the upstream either way); `http_filter_name.app_cookies.header_value_too_long` counts them.
import type { SignInModel } from '../../model/index.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import type { HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const SESSION_COOKIES_FILTER = 'mtls-edge.session-cookies' as const;
export const APP_COOKIES_FILTER = 'mtls-edge.app-cookies' as const;
/**
 * header_to_metadata's stats of the session-cookies filter, named `http_filter_name.app_cookies.…` by Envoy 1.40
 * (`regex_substitution_failed` counts the requests left with no cookie of the application's: not an error).
 */
export const SESSION_COOKIES_STAT_PREFIX = 'app_cookies';
const HEADER_TO_METADATA = 'envoy.extensions.filters.http.header_to_metadata.v3.Config';
const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_MUTATION_PER_ROUTE = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute';
/** Where the application's cookies wait between the two filters (nothing else writes this namespace). */
const APP_COOKIES_METADATA = { namespace: 'mtls_edge.app_cookies', key: 'cookie' } as const;

/**
 * An RE2 pattern for what Envoy's regex rewrite removes from a Cookie header: every cookie named `cookieName` or
 * `cookieName_…`, each with its separator, so that the other cookies are left joined by `; ` as they were.
 * (Whitespace is spelled `[ \t]`, the only whitespace a header value holds, so that JavaScript reads it alike.
 * Its RE2 program is 61 instructions for `_pomerium`, 171 for a name of 64 characters: envoy/bootstrap.yaml's
 * limit is 1000.)
 */
export function sessionCookiesPattern(cookieName: string): string {
  const name = cookieName.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`);
  // One of ours: the name, or the name and `_…` (the flow's cookies end in `.flow-id`), and its value. The value
  // runs to the next `;`, not to a comma: stopping at one would leave the rest of a value that holds one.
  const ours = `${name}(?:_[^=;,]*)?=[^;]*`;
  // Those at the start with the separator after them; the others with the separator before them. (`,` too, though
  // Envoy joins two Cookie headers with `; `: a client may join cookies with a comma, and none of ours may stay.)
  return `^[ \\t]*(?:${ours}(?:;[ \\t]*|$))+|[;,][ \\t]*${ours}`;
}

function sessionCookiesFilter(): HttpFilter {
  // Off but on the hosts' own routes (their per-route config holds the rule).
  return { name: SESSION_COOKIES_FILTER, disabled: true, typed_config: typed(HEADER_TO_METADATA, {}) };
}

function sessionCookiesPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  const signIn = sessionHostRoute(ctx);
  if (signIn === undefined) return undefined;
  return typed(HEADER_TO_METADATA, {
    request_rules: [
      {
        header: 'cookie',
        remove: true,
        on_header_present: {
          metadata_namespace: APP_COOKIES_METADATA.namespace,
          key: APP_COOKIES_METADATA.key,
          regex_value_rewrite: {
            pattern: { regex: sessionCookiesPattern(signIn.config.cookieName) },
            substitution: '',
          },
          type: 'STRING',
        },
      },
    ],
    stat_prefix: SESSION_COOKIES_STAT_PREFIX,
  });
}

function appCookiesFilter(): HttpFilter {
  return { name: APP_COOKIES_FILTER, disabled: true, typed_config: typed(HEADER_MUTATION, { mutations: {} }) };
}

function appCookiesPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (sessionHostRoute(ctx) === undefined) return undefined;
  const { namespace, key } = APP_COOKIES_METADATA;
  return typed(HEADER_MUTATION_PER_ROUTE, {
    mutations: {
      request_mutations: [
        {
          append: {
            // A missing value formats as empty, and an empty value adds no header.
            header: { key: 'cookie', value: `%DYNAMIC_METADATA(${namespace}:${key})%` },
            append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            keep_empty_value: false,
          },
        },
      ],
    },
  });
}

/**
 * Every route of the hosts on a sign-in chain, whether it needs sign-in or not, and whether or not the provider was
 * reached yet (a browser sends an earlier session's cookies all the same). The edge's own answers (404, 421, the
 * JWKS, the sign-in paths) forward nothing.
 */
function sessionHostRoute(ctx: RouteContext): SignInModel | undefined {
  return ctx.kind === 'host-route' ? ctx.chain.signIn : undefined;
}

/** After the session's ID token was validated: nothing later reads the session's cookies. */
export const sessionCookies: HttpFilterModule<typeof SESSION_COOKIES_FILTER> = {
  name: SESSION_COOKIES_FILTER,
  connectionManagerEntry: (chain) => (chain.signIn ? sessionCookiesFilter() : undefined),
  perRoute: sessionCookiesPerRoute,
};

/** Right after session-cookies: the ext_authz service and the upstream see the application's cookies. */
export const appCookies: HttpFilterModule<typeof APP_COOKIES_FILTER> = {
  name: APP_COOKIES_FILTER,
  connectionManagerEntry: (chain) => (chain.signIn ? appCookiesFilter() : undefined),
  perRoute: appCookiesPerRoute,
};
