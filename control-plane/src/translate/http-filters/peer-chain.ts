import { PEER_HEADERS } from '../../policy/internal-headers.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import type { HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const PEER_CHAIN_FILTER = 'mtls-edge.peer-chain' as const;

const PEER_CHAIN_SOURCE = 'peer-chain';

/**
 * The certificates the client sent (leaf first, URL-encoded PEM) in an internal header, for the ext_authz
 * service on routes whose trust allows intermediates: the filter's check request carries only the leaf, and
 * Envoy 1.40 has no formatter for the chain (%DOWNSTREAM_PEER_CHAIN% is refused), but Lua reads it (Envoy
 * keeps both encodings per connection, so comparing their lengths costs no PEM encoding per request).
 * Disabled unless a route names it; a client's own header was removed by the strip filter before.
 */
function peerChainFilter(): HttpFilter {
  const setChainHeader = `handle:headers():replace("${PEER_HEADERS.chain}", chain)`;
  const code = `
function envoy_on_request(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  if ssl ~= nil and ssl:peerCertificatePresented() then
    local chain = ssl:urlEncodedPemEncodedPeerCertificateChain()
    -- A leaf sent alone needs no header: the check request carries the leaf already.
    if #chain > #ssl:urlEncodedPemEncodedPeerCertificate() then ${setChainHeader} end
  end
end
`;
  return {
    name: PEER_CHAIN_FILTER,
    disabled: true,
    typed_config: typed('envoy.extensions.filters.http.lua.v3.Lua', {
      source_codes: { [PEER_CHAIN_SOURCE]: { inline_string: code } },
    }),
  };
}

/**
 * Per-route: the filter on (it is off unless a route enables it), for a route whose policy reads the chain, and
 * on every route the ext_authz service re-verifies on a connection made under an older trust. (A resumed session's
 * trust check gets the chain from the identity cache, on a miss only: identity-cache.ts.)
 */
function peerChainPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (ctx.kind !== 'host-route') return undefined;
  const a = ctx.route.authorization;
  const policyReadsChain = a.kind !== 'none' && a.peerProperties.includes('chain');
  const reverified = ctx.certificate === 'stale-trust' && ctx.route.trustCheck !== undefined;
  if (!policyReadsChain && !reverified) return undefined;
  return typed('envoy.extensions.filters.http.lua.v3.LuaPerRoute', { name: PEER_CHAIN_SOURCE });
}

export const peerChain: HttpFilterModule<typeof PEER_CHAIN_FILTER> = {
  name: PEER_CHAIN_FILTER,
  connectionManagerEntry: () => peerChainFilter(),
  perRoute: peerChainPerRoute,
};
