import type { SignInModel } from '../../model/index.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import type { HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const SESSION_COOKIES_FILTER = 'mtls-edge.session-cookies' as const;
export const APP_COOKIES_FILTER = 'mtls-edge.app-cookies' as const;
const HEADER_TO_METADATA = 'envoy.extensions.filters.http.header_to_metadata.v3.Config';
const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
/** Where the application's own cookies wait (dynamic metadata) between the two filters. */
const KEPT = { namespace: 'mtls_edge.app_cookies', key: 'cookie' } as const;

/**
 * An RE2 pattern for what Envoy's regex rewrite removes from a Cookie header: every cookie named `cookieName` or
 * `cookieName_…`, each with its separator, so that the application's cookies are left as they were, joined by `; `.
 */
export function sessionCookiesPattern(cookieName: string): string {
  const name = cookieName.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`);
  // One of ours: the name, or the name and `_…` (the flow's cookies end in `.flow-id`), and its value. A value runs
  // to the next `;` only: a comma may be inside one (the ID token's value is the edge's, written back by Envoy).
  const ours = `${name}(?:_[^=;,]*)?=[^;]*`;
  // Those at the start with the separator after them; the others with the separator before them (`,` too: what
  // Envoy makes of two Cookie headers).
  return `^\\s*(?:${ours}(?:;\\s*|$))+|[;,]\\s*${ours}`;
}

/**
 * The session's cookies stay at the edge. Envoy's oauth2 filter writes the Cookie header again with the ID token's
 * cookie decrypted (a JWT any upstream could read and present elsewhere), so on the routes that need sign-in, once
 * the token was validated, two native filters (a Lua script took about twice the instructions per request):
 * - session-cookies takes the whole Cookie header out, and keeps what is left of it without every cookie named
 *   `cookie_name` or `cookie_name_…` (the session's and the flow's) in the request's metadata;
 * - app-cookies puts that back as the Cookie header: the application's own cookies go on as they were.
 * Elsewhere the oauth2 filter is off and the cookies are an opaque, encrypted session.
 * A request whose own cookies come to 8 KiB or more loses them: Envoy keeps no longer value in metadata (the
 * session's never reach the upstream either way).
 */
function sessionCookiesFilter(): HttpFilter {
  // Off but on the routes that need sign-in (their per-route config holds the rule).
  return { name: SESSION_COOKIES_FILTER, disabled: true, typed_config: typed(HEADER_TO_METADATA, {}) };
}

function sessionCookiesPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  const signIn = signedInRoute(ctx);
  if (signIn === undefined) return undefined;
  return typed(HEADER_TO_METADATA, {
    request_rules: [
      {
        header: 'cookie',
        remove: true,
        on_header_present: {
          metadata_namespace: KEPT.namespace,
          key: KEPT.key,
          regex_value_rewrite: {
            pattern: { regex: sessionCookiesPattern(signIn.config.cookieName) },
            substitution: '',
          },
          type: 'STRING',
        },
      },
    ],
  });
}

function appCookiesFilter(): HttpFilter {
  return { name: APP_COOKIES_FILTER, disabled: true, typed_config: typed(HEADER_MUTATION, { mutations: {} }) };
}

function appCookiesPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (signedInRoute(ctx) === undefined) return undefined;
  return typed('envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute', {
    mutations: {
      request_mutations: [
        {
          append: {
            header: { key: 'cookie', value: `%DYNAMIC_METADATA(${KEPT.namespace}:${KEPT.key})%` },
            append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            // No cookies of the application's: no Cookie header at all.
            keep_empty_value: false,
          },
        },
      ],
    },
  });
}

function signedInRoute(ctx: RouteContext): SignInModel | undefined {
  const signIn = ctx.chain.signIn;
  if (signIn?.provider === undefined || ctx.kind !== 'host-route' || !ctx.route.signIn) return undefined;
  return signIn;
}

/** After the session's ID token was validated: nothing later reads the session's cookies. */
export const sessionCookies: HttpFilterModule<typeof SESSION_COOKIES_FILTER> = {
  name: SESSION_COOKIES_FILTER,
  connectionManagerEntry: (chain) => (chain.signIn?.provider ? sessionCookiesFilter() : undefined),
  perRoute: sessionCookiesPerRoute,
};

/** Right after session-cookies: the ext_authz service and the upstream see the application's cookies as they were. */
export const appCookies: HttpFilterModule<typeof APP_COOKIES_FILTER> = {
  name: APP_COOKIES_FILTER,
  connectionManagerEntry: (chain) => (chain.signIn?.provider ? appCookiesFilter() : undefined),
  perRoute: appCookiesPerRoute,
};
