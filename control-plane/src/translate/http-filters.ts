import { CLIENT_CERTIFICATE_STATE_HEADER, INTERNAL_HEADER_PREFIX, PEER_HEADERS } from '../policy/internal-headers.js';
import { typed as typedConfig, type envoy_type_matcher_v3 } from '../envoy-api/index.js';
import { typed } from './common.js';
import type { EnvoyJson } from './types.js';

type StringMatcher = envoy_type_matcher_v3.StringMatcher;
const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';

export const CLIENT_CERTIFICATE_FILTER = 'mtls-edge.client-certificate';
const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';

/**
 * Identity headers only this edge (or Pomerium before it) may set, and the edge's own internal headers:
 * a client that sends them is lying. Envoy's header_mutation removes them natively, by prefix and by name
 * (`remove_on_match`). (x-forwarded-client-cert is sanitized by the connection manager itself.)
 */
function identityHeaderRemovals(claimHeaders: string[]): StringMatcher[] {
  const named = claimHeaders.filter((h) => !h.startsWith('x-pomerium-'));
  return [{ prefix: 'x-pomerium-' }, { prefix: INTERNAL_HEADER_PREFIX }, ...named.map((h) => ({ exact: h }))];
}

const PAGE_TITLE = 'A valid client certificate is required';

/** A Lua long string holding `text` verbatim: its bracket level is one that `text` cannot close early. */
export function luaLongString(text: string): string {
  let level = 1;
  // `text + ']'`: a text ending in "]=" would otherwise close "]=]" with the closing bracket's own "]".
  while (`${text}]`.includes(`]${'='.repeat(level)}]`)) level++;
  const eq = '='.repeat(level);
  return `[${eq}[${text}]${eq}]`;
}

function clientCertificateCheckSource(issuers?: string[]): string {
  const allowed = issuers === undefined ? 'nil' : `{ ${issuers.map((n) => `[ ${luaLongString(n)} ] = true`).join(', ')} }`;
  return `
local ALLOWED_ISSUERS = ${allowed}

local function page(reason)
  return [[<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>495 ${PAGE_TITLE}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style>
</head><body><h1>${PAGE_TITLE}</h1><p>]] .. reason .. [[</p>
<p>This site accepts only clients that present a certificate issued by its certificate authority.
Install your client certificate in your browser or operating system, then open this page again
(you may need to restart the browser).</p></body></html>
]]
end

local function refuse(handle, reason)
  local accept = handle:headers():get("accept") or ""
  if string.find(accept, "application/json", 1, true) then
    handle:respond({[":status"] = "495", ["content-type"] = "application/json", ["cache-control"] = "no-store"},
      '{"status":495,"error":"client_certificate_required","message":"' .. reason .. '"}')
  else
    handle:respond({[":status"] = "495", ["content-type"] = "text/html; charset=utf-8", ["cache-control"] = "no-store"}, page(reason))
  end
end

function envoy_on_request(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  local presented = ssl ~= nil and ssl:peerCertificatePresented()
  if not presented then return refuse(handle, "Your browser did not send a client certificate.") end
  if not ssl:peerCertificateValidated() then
    return refuse(handle, "The certificate your browser sent is not valid here: it is expired, revoked, or not issued by a trusted authority.")
  end
  if ALLOWED_ISSUERS ~= nil and not ALLOWED_ISSUERS[ssl:issuerPeerCertificate()] then
    return refuse(handle, "The certificate your browser sent is valid on this site, but not for this page: another authority issues the certificates it accepts.")
  end
end
`;
}

/** `claimHeaders`: jwt_claims_headers names (lower case) outside x-pomerium-*, which only this edge may set too. */
export function stripIdentityHeadersFilter(claimHeaders: string[] = []): EnvoyJson {
  const requestMutations = identityHeaderRemovals(claimHeaders).map((matcher) => ({ remove_on_match: { key_matcher: matcher } }));
  return {
    name: 'mtls-edge.strip-identity-headers',
    typed_config: typedConfig(HEADER_MUTATION, { mutations: { request_mutations: requestMutations } }),
  };
}

/**
 * HTTP 495 (SSL Certificate Error, as nginx and Pomerium use it) for a request whose connection has no
 * validated client certificate: an HTML page for people, JSON for programs that ask for it.
 */
export function clientCertificateCheckFilter(): EnvoyJson {
  return { name: CLIENT_CERTIFICATE_FILTER, typed_config: typed(LUA, { default_source_code: { inline_string: clientCertificateCheckSource() } }) };
}

/** Per-route: no check at all, for answers Envoy gives itself (421, the edge's health check). */
export function skipClientCertificateCheck(): EnvoyJson {
  return { [CLIENT_CERTIFICATE_FILTER]: typed('envoy.extensions.filters.http.lua.v3.LuaPerRoute', { disabled: true }) };
}

/**
 * Per-route, for routes that need no certificate on a chain that accepts unverified ones: let the request
 * through, but with nothing that describes a certificate Envoy did not verify (or, on a host whose routes
 * trust different CAs, one not issued for this route): no x-forwarded-client-cert, no certificate
 * properties for the policy filters, and a mark that tells the ext_authz service the certificate is invalid.
 */
function markUnverifiedCertificateSource(issuers?: string[]): string {
  const allowed = issuers === undefined ? 'nil' : `{ ${issuers.map((n) => `[ ${luaLongString(n)} ] = true`).join(', ')} }`;
  const removals = ['x-forwarded-client-cert', ...Object.values(PEER_HEADERS)].map((h) => `    headers:remove("${h}")`).join('\n');
  return `
local ALLOWED_ISSUERS = ${allowed}

function envoy_on_request(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  local valid = ssl ~= nil and ssl:peerCertificateValidated()
  if valid and ALLOWED_ISSUERS ~= nil then valid = ALLOWED_ISSUERS[ssl:issuerPeerCertificate()] == true end
  if not valid then
    local headers = handle:headers()
${removals}
    headers:replace("${CLIENT_CERTIFICATE_STATE_HEADER}", "invalid")
  end
end
`;
}

export function allowWithoutClientCertificate(issuers?: string[]): EnvoyJson {
  return { [CLIENT_CERTIFICATE_FILTER]: typed('envoy.extensions.filters.http.lua.v3.LuaPerRoute', { source_code: { inline_string: markUnverifiedCertificateSource(issuers) } }) };
}

/**
 * Per-route: the certificate must also be issued by one of `issuers` (RFC 2253 names), for routes of one host
 * that trust different CAs. The handshake validated it against all of them; the issuer says which one.
 */
export function checkClientCertificateIssuer(issuers: string[]): EnvoyJson {
  return { [CLIENT_CERTIFICATE_FILTER]: typed('envoy.extensions.filters.http.lua.v3.LuaPerRoute', { source_code: { inline_string: clientCertificateCheckSource(issuers) } }) };
}

export function routerFilter(): EnvoyJson {
  return { name: 'envoy.filters.http.router', typed_config: typed('envoy.extensions.filters.http.router.v3.Router') };
}
