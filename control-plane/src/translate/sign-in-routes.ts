import type { envoy_config_route_v3 as route_v3 } from '../envoy-api/index.js';
import { withTypedPerFilterConfig, type RouteChain } from './http-filters/index.js';
import { AUTHENTICATE_CALLBACK_PATH, CALLBACK_PATH, SIGN_OUT_PATH } from './http-filters/sign-in.js';

/**
 * The sign-in paths on every host: the provider's redirect back and sign-out. The sign-in filter answers both
 * before any route is taken; these routes only turn it on there, whatever the host's own routes say (a host whose
 * `/` is public still takes its callback). Should the filter let one through, the answer is a plain 404.
 */
export function signInRoutes(chain: RouteChain): route_v3.Route[] {
  const callback = chain.signIn?.config.authenticateServiceUrl ? AUTHENTICATE_CALLBACK_PATH : CALLBACK_PATH;
  return [callback, SIGN_OUT_PATH].map((path) =>
    withTypedPerFilterConfig(
      {
        name: path === SIGN_OUT_PATH ? 'sign-out' : 'sign-in-callback',
        match: { path },
        direct_response: { status: 404, body: { inline_string: 'Not found.\n' } },
      },
      { kind: 'sign-in', chain },
    ),
  );
}

/** A route that needs sign-in, while the control plane has not yet read the identity provider's configuration. */
export const SIGN_IN_UNAVAILABLE: route_v3.DirectResponseAction = {
  status: 503,
  body: {
    inline_string:
      'Sign-in is unavailable: this site cannot reach its identity provider right now. Try again in a minute.\n',
  },
};
