import type { TlsClass } from '../../model/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from '../../policy/internal-headers.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import { luaLongString } from './lua-long-string.js';
import { errorPageHtml, INSTALL_CERTIFICATE } from '../pages.js';
import { EDGE_METADATA_NAMESPACE } from '../../config/index.js';
import type { HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const CLIENT_CERTIFICATE_FILTER = 'mtls-edge.client-certificate' as const;
const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';
const LUA_PER_ROUTE = 'envoy.extensions.filters.http.lua.v3.LuaPerRoute';

/** A chain whose requests (some or all) are checked for a client certificate at the HTTP layer. */
export function checksClientCertificates(tlsClass: TlsClass): boolean {
  const r = tlsClass.requirement;
  return 'ca' in r && (r.validation.enforcement !== 'reject_connection' || r.validation.checkedPerRoute === true);
}

const PAGE_TITLE = 'A valid client certificate is required';
/** The Lua table of the HTML answer's headers. */
const HTML_HEADERS =
  '{[":status"] = "495", ["content-type"] = "text/html; charset=utf-8", ["cache-control"] = "no-store"}';
const NOT_VALID_REASON =
  'The certificate your browser sent is not valid here: ' +
  'it is expired, revoked, or not issued by a trusted authority.';
const OTHER_ISSUER_REASON =
  'The certificate your browser sent is valid on this site, but not for this page: ' +
  'another authority issues the certificates it accepts.';

/** The shared page (translate/pages.ts), the reason pasted in by Lua. */
const PAGE_AROUND_REASON = errorPageHtml({
  status: 495,
  title: PAGE_TITLE,
  reason: ']] .. reason .. [[',
  next: INSTALL_CERTIFICATE,
});

function clientCertificateCheckSource(issuers?: string[]): string {
  const allowed =
    issuers === undefined ? 'nil' : `{ ${issuers.map((n) => `[ ${luaLongString(n)} ] = true`).join(', ')} }`;
  return `
local ALLOWED_ISSUERS = ${allowed}

local function page(reason)
  return [[${PAGE_AROUND_REASON}]]
end

local function refuse(handle, code, reason)
  handle:streamInfo():dynamicMetadata():set("${EDGE_METADATA_NAMESPACE}", "reason", code)
  local accept = handle:headers():get("accept") or ""
  if string.find(accept, "application/json", 1, true) then
    handle:respond({[":status"] = "495", ["content-type"] = "application/json", ["cache-control"] = "no-store"},
      '{"status":495,"error":"client_certificate_required","message":"' .. reason .. '"}')
  else
    handle:respond(${HTML_HEADERS}, page(reason))
  end
end

function envoy_on_request(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  local presented = ssl ~= nil and ssl:peerCertificatePresented()
  if not presented then
    return refuse(handle, "client_certificate_missing", "Your browser did not send a client certificate.")
  end
  if not ssl:peerCertificateValidated() then
    return refuse(handle, "client_certificate_invalid", "${NOT_VALID_REASON}")
  end
  if ALLOWED_ISSUERS ~= nil and not ALLOWED_ISSUERS[ssl:issuerPeerCertificate()] then
    return refuse(handle, "client_certificate_wrong_ca", "${OTHER_ISSUER_REASON}")
  end
end
`;
}

/**
 * HTTP 495 (SSL Certificate Error, as nginx and Pomerium use it) for a request whose connection has no
 * validated client certificate: an HTML page for people, JSON for programs that ask for it.
 */
function clientCertificateCheckFilter(): HttpFilter {
  return {
    name: CLIENT_CERTIFICATE_FILTER,
    typed_config: typed(LUA, { default_source_code: { inline_string: clientCertificateCheckSource() } }),
  };
}

/** Per-route: no check at all, for answers Envoy gives itself (421, the edge's health check, the JWKS). */
function skipClientCertificateCheck(): google_protobuf.Any {
  return typed(LUA_PER_ROUTE, { disabled: true });
}

/**
 * Per-route, for routes that need no certificate on a chain that accepts unverified ones: let the request
 * through, but with nothing that describes a certificate Envoy did not verify (or, on a host whose routes
 * trust different CAs, one not issued for this route): no x-forwarded-client-cert, no certificate
 * properties for the policy filters, and a mark that tells the ext_authz service the certificate is invalid.
 */
function markUnverifiedCertificateSource(issuers?: string[]): string {
  const allowed =
    issuers === undefined ? 'nil' : `{ ${issuers.map((n) => `[ ${luaLongString(n)} ] = true`).join(', ')} }`;
  const removals = ['x-forwarded-client-cert', ...Object.values(PEER_HEADERS)]
    .map((h) => `    headers:remove("${h}")`)
    .join('\n');
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

function allowWithoutClientCertificate(issuers?: string[]): google_protobuf.Any {
  return typed(LUA_PER_ROUTE, { source_code: { inline_string: markUnverifiedCertificateSource(issuers) } });
}

/**
 * Per-route: the certificate must also be issued by one of `issuers` (RFC 2253 names), for routes of one host
 * that trust different CAs. The handshake validated it against all of them; the issuer says which one.
 */
function checkClientCertificateIssuer(issuers: string[]): google_protobuf.Any {
  return typed(LUA_PER_ROUTE, { source_code: { inline_string: clientCertificateCheckSource(issuers) } });
}

function clientCertificatePerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  // A chain without the filter has nothing to configure.
  if (!ctx.chain.checksClientCertificates) return undefined;
  if (ctx.kind !== 'host-route') return skipClientCertificateCheck();
  const check = ctx.route.certificateCheck;
  if (check.kind === 'none') return allowWithoutClientCertificate(check.issuers);
  if (check.kind === 'issued-by') return checkClientCertificateIssuer(check.issuers);
  return undefined;
}

/**
 * After the peer-property copies (it removes them when the certificate is not valid for the route), before the
 * policy filters. Only on chains that check certificates at the HTTP layer.
 */
export const clientCertificateCheck: HttpFilterModule<typeof CLIENT_CERTIFICATE_FILTER> = {
  name: CLIENT_CERTIFICATE_FILTER,
  connectionManagerEntry: (chain) => (chain.checksClientCertificates ? clientCertificateCheckFilter() : undefined),
  perRoute: clientCertificatePerRoute,
};
