import type { AuthorizationRoute, AuthorizationTable } from '../authz/index.js';
import { AssertionSigner, type SigningKey } from '../identity/index.js';

/**
 * What the ext_authz service reads: replaced only when the routes it decides (or the key) really change.
 * The previous generation's entries stay, under their own keys, for checks Envoy sends from the route
 * configuration it had before the edit (until it applies the new one, or if it refuses it).
 */
export function authorizationState() {
  const state = {
    table: new Map() as AuthorizationTable,
    signer: undefined as AssertionSigner | undefined,
    onDecision: (_: { allowed: boolean; cached: boolean }) => {},
    current: new Map<string, AuthorizationRoute>(),
    kid: undefined as string | undefined,
    apply(routes: AuthorizationRoute[], key: SigningKey | undefined) {
      const next = new Map(routes.map((r) => [r.name, r]));
      // Keys are digests of what is decided: the same keys, the same decisions; keep the cache then.
      if (next.size !== state.current.size || [...next.keys()].some((k) => !state.current.has(k))) {
        state.table = new Map([...state.current, ...next]);
        state.current = next;
      }
      if (key?.kid !== state.kid) {
        state.signer = key ? new AssertionSigner(key) : undefined;
        state.kid = key?.kid;
      }
    },
  };
  return state;
}
