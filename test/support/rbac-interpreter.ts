// Envoy's RBAC principals, interpreted over a model of what Envoy sees of a connection: the headers the
// translation reads and the certificate's SANs one by one. A unit-level stand-in for Envoy, so that many
// random certificates can be compared with the evaluator; the end-to-end agreement test checks a sample
// against the real Envoy.
import type { CertificateIdentity } from '../../control-plane/src/identity/types.js';
import { PEER_HEADERS } from '../../control-plane/src/policy/internal-headers.js';

type Json = Record<string, unknown>;

export interface EnvoyView {
  headers: Record<string, string>;
  sans: Record<'DNS' | 'EMAIL' | 'URI', string[]>;
}

/** What the header_mutation filter sets (%DOWNSTREAM_PEER_*%), and the SANs BoringSSL reads. */
export function envoyView(identity: CertificateIdentity): EnvoyView {
  const headers: Record<string, string> = { [PEER_HEADERS.fingerprint]: identity.fingerprint, [PEER_HEADERS.subject]: identity.subject };
  // Envoy joins a list with ","; an empty result sets no header.
  const email = identity.sans.email.join(',');
  if (email !== '') headers[PEER_HEADERS.email] = email;
  return { headers, sans: { DNS: identity.sans.dns, EMAIL: identity.sans.email, URI: identity.sans.uri } };
}

export function principalHolds(p: Json, view: EnvoyView): boolean {
  if (p['any'] === true) return true;
  if (p['not_id']) return !principalHolds(p['not_id'] as Json, view);
  if (p['and_ids']) return ((p['and_ids'] as { ids: Json[] }).ids).every((id) => principalHolds(id, view));
  if (p['or_ids']) return ((p['or_ids'] as { ids: Json[] }).ids).some((id) => principalHolds(id, view));
  if (p['header']) {
    const h = p['header'] as { name: string; present_match?: boolean; string_match?: Json };
    const value = view.headers[h.name];
    if (h.present_match) return value !== undefined;
    return value !== undefined && stringMatches(h.string_match!, value);
  }
  if (p['custom']) {
    const custom = p['custom'] as { name: string; typed_config: { san_matcher: { san_type: 'DNS' | 'EMAIL' | 'URI'; matcher: Json } } };
    if (custom.name !== 'envoy.rbac.principals.mtls_authenticated') throw new Error(`unknown principal ${custom.name}`);
    const { san_type, matcher } = custom.typed_config.san_matcher;
    if (san_type === 'DNS' && 'exact' in matcher) throw new Error('an exact DNS SAN matcher follows wildcard rules in Envoy');
    return view.sans[san_type].some((san) => stringMatches(matcher, san));
  }
  throw new Error(`principal not modelled: ${JSON.stringify(p)}`);
}

function stringMatches(m: Json, value: string): boolean {
  if (typeof m['exact'] === 'string') return value === m['exact'];
  if (typeof m['prefix'] === 'string') return value.startsWith(m['prefix']);
  if (typeof m['suffix'] === 'string') return value.endsWith(m['suffix']);
  if (typeof m['contains'] === 'string') return value.includes(m['contains']);
  const regex = (m['safe_regex'] as { regex?: string } | undefined)?.regex;
  // Envoy matches the whole value; RE2 and JavaScript agree on what the translation writes.
  if (regex !== undefined) return new RegExp(`^(?:${regex})$`).test(value);
  throw new Error(`string matcher not modelled: ${JSON.stringify(m)}`);
}
