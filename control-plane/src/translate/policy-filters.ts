import type { EdgeRoute, PeerProperty } from '../model/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from '../policy/internal-headers.js';
import { duration, typed } from './common.js';
import { buildRbacPolicies } from './rbac.js';
import type { EnvoyJson } from './types.js';

/**
 * The HTTP filters that enforce route policies. Each is a no-op unless a route configures it, so every chain
 * carries all of them: adding the first policy to a host then changes only its route configuration, and
 * Envoy drains no connection.
 */
export const PEER_IDENTITY_FILTER = 'mtls-edge.peer-identity';
export const POLICY_DENY_FILTER = 'mtls-edge.policy-deny';
export const POLICY_ALLOW_FILTER = 'mtls-edge.policy-allow';
export const EXT_AUTHZ_FILTER = 'mtls-edge.ext-authz';
export const PEER_CHAIN_FILTER = 'mtls-edge.peer-chain';

/** The bootstrap's cluster to the control plane (envoy/bootstrap.yaml): ext_authz shares it with ADS. */
export const CONTROL_PLANE_CLUSTER = 'mtls-edge-xds';

const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';

/** Envoy's own view of the certificate: the formatter that fills each internal header (the chain has none: Lua). */
const PEER_FORMATTER: Record<Exclude<PeerProperty, 'chain'>, string> = {
  fingerprint: '%DOWNSTREAM_PEER_FINGERPRINT_256%',
  email: '%DOWNSTREAM_PEER_EMAIL_SAN%',
  subject: '%DOWNSTREAM_PEER_SUBJECT%',
};

const PEER_CHAIN_SOURCE = 'peer-chain';

/**
 * The certificates the client sent (leaf first, URL-encoded PEM) in an internal header, for the ext_authz
 * service on routes whose trust allows intermediates: the filter's check request carries only the leaf, and
 * Envoy 1.40 has no formatter for the chain (%DOWNSTREAM_PEER_CHAIN% is refused), but Lua reads it (Envoy
 * keeps both encodings per connection, so comparing their lengths costs no PEM encoding per request).
 * Disabled unless a route names it; a client's own header was removed by the strip filter before.
 */
export function peerChainFilter(): EnvoyJson {
  const code = `
function envoy_on_request(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  if ssl ~= nil and ssl:peerCertificatePresented() then
    local chain = ssl:urlEncodedPemEncodedPeerCertificateChain()
    -- A leaf sent alone needs no header: the check request carries the leaf already.
    if #chain > #ssl:urlEncodedPemEncodedPeerCertificate() then handle:headers():replace("${PEER_HEADERS.chain}", chain) end
  end
end
`;
  return { name: PEER_CHAIN_FILTER, disabled: true, typed_config: typed('envoy.extensions.filters.http.lua.v3.Lua', { source_codes: { [PEER_CHAIN_SOURCE]: { inline_string: code } } }) };
}

/** Per-route: the peer-chain filter on (it is off unless a route enables it). */
export function forwardPeerChain(): EnvoyJson {
  return { [PEER_CHAIN_FILTER]: typed('envoy.extensions.filters.http.lua.v3.LuaPerRoute', { name: PEER_CHAIN_SOURCE }) };
}

export function peerIdentityFilter(): EnvoyJson {
  return { name: PEER_IDENTITY_FILTER, typed_config: typed(HEADER_MUTATION, { mutations: {} }) };
}

export function policyDenyFilter(): EnvoyJson {
  return { name: POLICY_DENY_FILTER, typed_config: typed(RBAC) };
}

export function policyAllowFilter(): EnvoyJson {
  return { name: POLICY_ALLOW_FILTER, typed_config: typed(RBAC) };
}

export function extAuthzFilter(): EnvoyJson {
  return {
    name: EXT_AUTHZ_FILTER,
    // Enabled only by the routes that name it in typed_per_filter_config.
    disabled: true,
    typed_config: typed('envoy.extensions.filters.http.ext_authz.v3.ExtAuthz', {
      grpc_service: { envoy_grpc: { cluster_name: CONTROL_PLANE_CLUSTER }, timeout: duration(2000) },
      transport_api_version: 'V3',
      include_peer_certificate: true,
      // The service reads the certificate, the method and the path; of the headers, only Envoy's own mark
      // and the client's chain (set only on routes that accept intermediates). (Every header more is bytes
      // to encode and decode on each check.)
      allowed_headers: { patterns: [{ exact: CLIENT_CERTIFICATE_STATE_HEADER }, { exact: PEER_HEADERS.chain }] },
      // Fail closed, and say why: the decision could not be made (not "you may not").
      status_on_error: { code: 'ServiceUnavailable' },
    }),
  };
}

/** The per-route configuration of the policy filters, merged into the route's typed_per_filter_config. */
export function routePolicyFilterConfig(route: EdgeRoute): EnvoyJson {
  const a = route.authorization;
  if (a.kind === 'none') return {};
  const out: EnvoyJson = {};
  const formatted = a.peerProperties.filter((p): p is Exclude<PeerProperty, 'chain'> => p !== 'chain');
  if (a.peerProperties.includes('chain')) Object.assign(out, forwardPeerChain());
  if (formatted.length > 0) {
    out[PEER_IDENTITY_FILTER] = typed('envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute', {
      mutations: {
        request_mutations: formatted.map((p) => ({
          append: { header: { key: PEER_HEADERS[p], value: PEER_FORMATTER[p] }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        })),
      },
    });
  }
  if (a.kind === 'ext-authz') {
    out[EXT_AUTHZ_FILTER] = typed('envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute', { check_settings: { context_extensions: { route: a.key } } });
    return out;
  }
  const rbac = buildRbacPolicies(a.policy, a.clientCaRequired);
  const perRoute = (rules: EnvoyJson): EnvoyJson => typed('envoy.extensions.filters.http.rbac.v3.RBACPerRoute', { rbac: { rules } });
  if (rbac.deny) out[POLICY_DENY_FILTER] = perRoute(rbac.deny);
  out[POLICY_ALLOW_FILTER] = perRoute(rbac.allow);
  return out;
}

const FORBIDDEN_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>403 Access denied</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}code{word-break:break-all}</style>
</head><body><h1>Access denied</h1><p>This page's policy does not let this request in.</p>
<p>%LOCAL_REPLY_BODY%</p><p>Reason: <code>%RESPONSE_CODE_DETAILS%</code></p>
<p><small>(<code>deny-rule-N</code>: the route's Nth deny rule matched; <code>[none]</code>: none of its allow rules did.)</small></p>
<p>If you think you should have access, send this page to the site's administrator.</p></body></html>
`;

const FORBIDDEN_JSON = '{"status":403,"error":"forbidden","message":"%LOCAL_REPLY_BODY%","reason":"%RESPONSE_CODE_DETAILS%"}\n';

function status403(): EnvoyJson {
  return { status_code_filter: { comparison: { op: 'EQ', value: { default_value: 403, runtime_key: 'mtls_edge.forbidden_status' } } } };
}

/**
 * Envoy's own 403s (RBAC, ext_authz) as a page naming the reason, or JSON for clients that ask for it.
 * Only local replies pass through here: an upstream's own 403 is left alone. The texts that fill the
 * page are Envoy's details (rule names this project chooses) and the ext_authz service's reason, which
 * holds no markup or quotes (authz/service.ts).
 */
export function buildLocalReplyConfig(): EnvoyJson {
  return {
    mappers: [
      {
        filter: { and_filter: { filters: [status403(), { header_filter: { header: { name: 'accept', string_match: { contains: 'application/json' } } } }] } },
        body_format_override: { text_format_source: { inline_string: FORBIDDEN_JSON }, content_type: 'application/json' },
      },
      {
        filter: status403(),
        body_format_override: { text_format_source: { inline_string: FORBIDDEN_HTML }, content_type: 'text/html; charset=utf-8' },
      },
    ],
  };
}
