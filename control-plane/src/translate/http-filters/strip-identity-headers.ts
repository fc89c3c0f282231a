import { typed, type envoy_type_matcher_v3 } from '../../envoy-api/index.js';
import { INTERNAL_HEADER_PREFIX } from '../../policy/internal-headers.js';
import type { HttpFilter, HttpFilterModule } from './types.js';

export const STRIP_IDENTITY_HEADERS_FILTER = 'mtls-edge.strip-identity-headers' as const;
const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';

/**
 * Identity headers only this edge (or Pomerium before it) may set, and the edge's own internal headers:
 * a client that sends them is lying. Envoy's header_mutation removes them natively, by prefix and by name
 * (`remove_on_match`). (x-forwarded-client-cert is sanitized by the connection manager itself.)
 */
function identityHeaderRemovals(claimHeaders: string[]): envoy_type_matcher_v3.StringMatcher[] {
  const named = claimHeaders.filter((h) => !h.startsWith('x-pomerium-'));
  return [{ prefix: 'x-pomerium-' }, { prefix: INTERNAL_HEADER_PREFIX }, ...named.map((h) => ({ exact: h }))];
}

/** `claimHeaders`: jwt_claims_headers names (lower case) outside x-pomerium-*, which only this edge may set too. */
function stripIdentityHeadersFilter(claimHeaders: string[] = []): HttpFilter {
  const requestMutations = identityHeaderRemovals(claimHeaders).map((matcher) => ({
    remove_on_match: { key_matcher: matcher },
  }));
  return {
    name: STRIP_IDENTITY_HEADERS_FILTER,
    typed_config: typed(HEADER_MUTATION, { mutations: { request_mutations: requestMutations } }),
  };
}

/** First on every chain: a forged header must be gone before any filter reads it. */
export const stripIdentityHeaders: HttpFilterModule<typeof STRIP_IDENTITY_HEADERS_FILTER> = {
  name: STRIP_IDENTITY_HEADERS_FILTER,
  connectionManagerEntry: (chain) => stripIdentityHeadersFilter(chain.claimHeaders),
};
