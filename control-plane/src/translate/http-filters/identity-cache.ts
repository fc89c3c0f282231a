import {
  CHECK_ALLOWED_METADATA_KEY,
  CHECK_CACHE_METADATA_KEY,
  EXT_AUTHZ_METADATA_NAMESPACE,
  PEER_HEADERS,
} from '../../policy/internal-headers.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import type { HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const IDENTITY_CACHE_FILTER = 'mtls-edge.identity-cache' as const;

const IDENTITY_CACHE_SOURCE = 'identity-cache';

/** Entries per Envoy worker; past it the table starts empty again (a bound, not an eviction policy). */
const MAX_ENTRIES = 10_000;

/**
 * A per-worker cache of the ext_authz service's allows, so that a route it decides (pass_identity_headers, criteria
 * Envoy cannot test) costs a round trip to the control plane once per certificate, not once per request.
 *
 * The key is the route's authorization key (a digest of everything the service decides for it: policy, trust,
 * claims, signing keys; model/authorization.ts) and the SHA-256 of the certificate Envoy verified on this
 * connection, or on a chain where sessions resume, at the handshake that made the resumed session. An entry is
 * filled only from an allow the service marked as cacheable (it holds for every request of that certificate on that
 * route), with the headers to set and for how long (never past the certificate's chain or
 * CRL, nor the assertion's renewal; a duration, so that Envoy's clock need not agree with the control plane's). On a
 * hit the filter sets those headers and the service's allow mark, which turns both ext_authz filters off for the
 * request; on a miss it does nothing and the ext_authz filters ask the service, and the response path stores the
 * answer. An edit to a route's policy or trust, or a new signing key, renames the route: the next request misses.
 * A hit removes no header: the strip filter at the head of the chain has already removed a client's copies of every
 * identity header. Each worker holds one table of entries for all filter chains (shared_vm_id).
 */
function identityCacheFilter(): HttpFilter {
  const code = `
local NS = "${EXT_AUTHZ_METADATA_NAMESPACE}"
local entries = {}
local count = 0

local function key(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  if ssl == nil or not ssl:peerCertificatePresented() then return nil end
  local context = handle:filterContext()
  -- A resumed session's certificate was verified when the session was made; Envoy says "not validated" then.
  if not ssl:peerCertificateValidated() and context:get("resumes") ~= true then return nil end
  local route = context:get("route")
  if route == nil then return nil end
  return route .. " " .. ssl:sha256PeerCertificateDigest()
end

-- What the peer-chain filter does, for the routes that ask only on a miss (a resumed session's trust check).
local function pass_chain(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  local chain = ssl:urlEncodedPemEncodedPeerCertificateChain()
  if #chain > #ssl:urlEncodedPemEncodedPeerCertificate() then
    handle:headers():replace("${PEER_HEADERS.chain}", chain)
  end
end

function envoy_on_request(handle)
  local k = key(handle)
  if k == nil then return end
  local entry = entries[k]
  if entry ~= nil and os.time() >= entry.expires then
    entries[k] = nil
    count = count - 1
    entry = nil
  end
  if entry == nil then
    if handle:filterContext():get("chain") == true then pass_chain(handle) end
    return
  end
  local headers = handle:headers()
  for name, value in pairs(entry.headers) do headers:replace(name, value) end
  handle:streamInfo():dynamicMetadata():set(NS, "${CHECK_ALLOWED_METADATA_KEY}", true)
end

function envoy_on_response(handle)
  local decided = handle:streamInfo():dynamicMetadata():get(NS)
  if decided == nil then return end
  local fill = decided["${CHECK_CACHE_METADATA_KEY}"]
  if fill == nil or type(fill["ttl"]) ~= "number" then return end
  local k = key(handle)
  if k == nil or entries[k] ~= nil then return end
  if count >= ${MAX_ENTRIES} then
    entries = {}
    count = 0
  end
  entries[k] = { expires = os.time() + fill["ttl"], headers = fill["headers"] or {} }
  count = count + 1
end
`;
  return {
    name: IDENTITY_CACHE_FILTER,
    disabled: true,
    typed_config: typed('envoy.extensions.filters.http.lua.v3.Lua', {
      source_codes: { [IDENTITY_CACHE_SOURCE]: { inline_string: code } },
      // One VM per worker for every chain's copy of this script, kept while any listener uses it: the entries
      // outlive a listener change (their keys still say what was decided) and are not kept once per chain.
      shared_vm_id: IDENTITY_CACHE_FILTER,
    }),
  };
}

/**
 * Per-route: on for the routes the service decides, keyed by their authorization key, and for the trust check of a
 * resumed TLS session (the session was verified under this chain's current trust when it was made: only time can
 * have passed, and an allow is kept no longer than the certificate's path is valid). Not on a stale route
 * configuration's routes (connections made under an older trust): those ask the service on every request.
 */
function identityCachePerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (ctx.kind !== 'host-route' || ctx.certificate === 'stale-trust') return undefined;
  const a = ctx.route.authorization;
  // Not on a route that needs sign-in: its allow (and assertion) are the signed-in user's, and this cache knows only
  // the certificate, so another user with the same certificate (or a new sign-in on the same connection) would get
  // them. That holds for a resumed session's trust check too, which decides the route's policy with the session.
  // The service never marks such an allow cacheable either (authz/service.ts); off here too, no replica can fill
  // an entry for these routes, and no request pays for the lookup.
  if (ctx.route.signIn) return undefined;
  const key = a.kind === 'ext-authz' ? a.key : ctx.certificate === 'resumed' ? ctx.route.trustCheck : undefined;
  if (key === undefined) return undefined;
  // On a chain where sessions resume, a certificate Envoy did not verify on the connection is a resumed session's.
  const fields: Record<string, google_protobuf.Value> = { route: { string_value: key } };
  if (ctx.chain.resumesSessions) fields['resumes'] = { bool_value: true };
  // A resumed session's trust check sends the client's intermediates on a miss only (peer-chain.ts would on every
  // request): a hit needs nothing from the certificate but its digest.
  if (ctx.certificate === 'resumed') fields['chain'] = { bool_value: true };
  return typed('envoy.extensions.filters.http.lua.v3.LuaPerRoute', {
    name: IDENTITY_CACHE_SOURCE,
    filter_context: { fields },
  });
}

/** Right before the ext_authz filters it can turn off. */
export const identityCache: HttpFilterModule<typeof IDENTITY_CACHE_FILTER> = {
  name: IDENTITY_CACHE_FILTER,
  connectionManagerEntry: () => identityCacheFilter(),
  perRoute: identityCachePerRoute,
};
