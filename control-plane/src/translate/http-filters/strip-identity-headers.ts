import { INTERNAL_HEADER_PREFIX } from '../../policy/internal-headers.js';
import { typed } from '../common.js';
import type { EnvoyJson } from '../types.js';
import type { HttpFilterModule } from './types.js';

export const STRIP_IDENTITY_HEADERS_FILTER = 'mtls-edge.strip-identity-headers' as const;
const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';

/**
 * Identity headers only this edge (or Pomerium before it) may set, and the edge's own internal headers:
 * a client that sends them is lying. Envoy's header_mutation cannot remove by prefix in the API this
 * project builds against, so a few lines of Lua do it. (x-forwarded-client-cert is sanitized by the
 * connection manager itself.)
 */
function stripIdentityHeadersSource(claimHeaders: string[]): string {
  const named = claimHeaders.filter((h) => !h.startsWith('x-pomerium-'));
  const table = named.length === 0 ? '{}' : `{ ${named.map((h) => `["${h}"] = true`).join(', ')} }`;
  return `
local CLAIM_HEADERS = ${table}

function envoy_on_request(handle)
  local forged = {}
  for name, _ in pairs(handle:headers()) do
    if string.sub(name, 1, 11) == "x-pomerium-" or string.sub(name, 1, ${INTERNAL_HEADER_PREFIX.length}) == "${INTERNAL_HEADER_PREFIX}" or CLAIM_HEADERS[name] then forged[#forged + 1] = name end
  end
  for _, name in ipairs(forged) do handle:headers():remove(name) end
end
`;
}

/** `claimHeaders`: jwt_claims_headers names (lower case) outside x-pomerium-*, which only this edge may set too. */
function stripIdentityHeadersFilter(claimHeaders: string[] = []): EnvoyJson {
  return { name: 'mtls-edge.strip-identity-headers', typed_config: typed(LUA, { default_source_code: { inline_string: stripIdentityHeadersSource(claimHeaders) } }) };
}

/** First on every chain: a forged header must be gone before any filter reads it. */
export const stripIdentityHeaders: HttpFilterModule<typeof STRIP_IDENTITY_HEADERS_FILTER> = {
  name: STRIP_IDENTITY_HEADERS_FILTER,
  connectionManagerEntry: (chain) => stripIdentityHeadersFilter(chain.claimHeaders),
};
