// Envoy's RBAC filter, interpreted over a model of what Envoy sees of a request: its pseudo-headers, the
// headers the translation reads and the certificate's SANs one by one. A unit-level stand-in for Envoy, so
// that many random certificates and policies can be compared with the evaluator; the end-to-end agreement
// tests check samples against the real Envoy.
import type { CertificateIdentity } from '../../control-plane/src/identity/types.js';
import { PEER_HEADERS } from '../../control-plane/src/policy/internal-headers.js';

type Json = Record<string, unknown>;

export interface EnvoyView {
  /** Request headers as the RBAC filter sees them, `:method` and `:path` (with its query) among them. */
  headers: Record<string, string>;
  /** The SANs of a certificate Envoy validated at the handshake (none otherwise): what mtls_authenticated reads. */
  sans: Record<'DNS' | 'EMAIL' | 'URI', string[]>;
}

/** What the header_mutation filter sets (%DOWNSTREAM_PEER_*%), and the SANs BoringSSL reads. */
export function envoyView(identity: CertificateIdentity): EnvoyView {
  const headers: Record<string, string> = {
    [PEER_HEADERS.fingerprint]: identity.fingerprint,
    [PEER_HEADERS.subject]: identity.subject,
  };
  // Envoy joins a list with ","; an empty result sets no header.
  const email = identity.sans.email.join(',');
  if (email !== '') headers[PEER_HEADERS.email] = email;
  return { headers, sans: { DNS: identity.sans.dns, EMAIL: identity.sans.email, URI: identity.sans.uri } };
}

/** An RBAC filter's `rules`: ALLOW lets the request on when some policy matches, DENY stops it when one does. */
export function rbacAllows(rules: Json, view: EnvoyView): boolean {
  const policies = Object.values((rules['policies'] ?? {}) as Record<string, Json>);
  const matched = policies.some((p) => policyMatches(p, view));
  if (rules['action'] === 'ALLOW') return matched;
  if (rules['action'] === 'DENY') return !matched;
  throw new Error(`RBAC action not modelled: ${String(rules['action'])}`);
}

/** Envoy: a policy matches when any of its permissions and any of its principals do. */
function policyMatches(policy: Json, view: EnvoyView): boolean {
  const permissions = (policy['permissions'] ?? []) as Json[];
  const principals = (policy['principals'] ?? []) as Json[];
  return permissions.some((p) => permissionHolds(p, view)) && principals.some((p) => principalHolds(p, view));
}

export function permissionHolds(p: Json, view: EnvoyView): boolean {
  if (p['any'] === true) return true;
  if (p['not_rule']) return !permissionHolds(p['not_rule'] as Json, view);
  if (p['and_rules']) return (p['and_rules'] as { rules: Json[] }).rules.every((r) => permissionHolds(r, view));
  if (p['or_rules']) return (p['or_rules'] as { rules: Json[] }).rules.some((r) => permissionHolds(r, view));
  return requestMatcherHolds(p, view) ?? unmodelled('permission', p);
}

export function principalHolds(p: Json, view: EnvoyView): boolean {
  if (p['any'] === true) return true;
  if (p['not_id']) return !principalHolds(p['not_id'] as Json, view);
  if (p['and_ids']) return (p['and_ids'] as { ids: Json[] }).ids.every((id) => principalHolds(id, view));
  if (p['or_ids']) return (p['or_ids'] as { ids: Json[] }).ids.some((id) => principalHolds(id, view));
  if (p['custom']) {
    const custom = p['custom'] as {
      name: string;
      typed_config: { san_matcher: { san_type: 'DNS' | 'EMAIL' | 'URI'; matcher: Json } };
    };
    if (custom.name !== 'envoy.rbac.principals.mtls_authenticated') throw new Error(`unknown principal ${custom.name}`);
    const { san_type, matcher } = custom.typed_config.san_matcher;
    if (san_type === 'DNS' && 'exact' in matcher)
      throw new Error('an exact DNS SAN matcher follows wildcard rules in Envoy');
    return view.sans[san_type].some((san) => stringMatches(matcher, san));
  }
  return requestMatcherHolds(p, view) ?? unmodelled('principal', p);
}

/** `header` and `url_path`, which principals and permissions share; undefined for anything else. */
function requestMatcherHolds(p: Json, view: EnvoyView): boolean | undefined {
  if (p['header']) {
    const h = p['header'] as Json & { name: string; present_match?: boolean; string_match?: Json };
    if (Object.keys(h).some((k) => !['name', 'present_match', 'string_match'].includes(k)))
      unmodelled('header matcher', h);
    const value = view.headers[h.name];
    if (h.present_match) return value !== undefined;
    return value !== undefined && stringMatches(h.string_match!, value);
  }
  if (p['url_path']) {
    // Envoy's url_path is the path without its query string (and fragment).
    const path = (view.headers[':path'] ?? '').split('?')[0]!.split('#')[0]!;
    return stringMatches((p['url_path'] as { path: Json }).path, path);
  }
  return undefined;
}

function unmodelled(what: string, p: unknown): never {
  throw new Error(`${what} not modelled: ${JSON.stringify(p)}`);
}

function stringMatches(m: Json, value: string): boolean {
  // Options change the meaning (ignore_case): refuse what this model does not know rather than guess.
  if (Object.keys(m).length !== 1) unmodelled('string matcher', m);
  if (typeof m['exact'] === 'string') return value === m['exact'];
  if (typeof m['prefix'] === 'string') return value.startsWith(m['prefix']);
  if (typeof m['suffix'] === 'string') return value.endsWith(m['suffix']);
  if (typeof m['contains'] === 'string') return value.includes(m['contains']);
  const regex = (m['safe_regex'] as { regex?: string } | undefined)?.regex;
  // Envoy matches the whole value; RE2 and JavaScript agree on what the translation writes.
  if (regex !== undefined) return new RegExp(`^(?:${regex})$`).test(value);
  return unmodelled('string matcher', m);
}
