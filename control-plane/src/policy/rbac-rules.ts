import { typed, type envoy_config_rbac_v3, type envoy_type_matcher_v3 } from '../envoy-api/index.js';
import { commonNameDomainRegex, commonNameRegex, EMAIL_COMMON_NAME_REGEX } from './subject-regex.js';
import { DOT_ATOM_REGEX, hostNameRegex, MAIL_ADDRESS_REGEX, NOTHING_REGEX } from './host-name-regex.js';
import { PEER_HEADERS } from './internal-headers.js';
import { quoteRegex } from './regex-text.js';
import type { CertificateCondition, StringMatcher } from './types.js';

/**
 * The criteria's Envoy RBAC principals (as Envoy's RBAC filter config reads them), over the request
 * (`:method`, the path) and the internal headers that carry the certificate's properties (set from Envoy's own
 * %DOWNSTREAM_PEER_*% formatters, removed by the client-certificate filter when the certificate is not valid
 * for the route; see translate/http-filters/client-certificate-check.ts).
 *
 * Header values are Envoy's: several SANs are joined with ",", the subject is RFC 2253 (`CN=a,O=Org\, Inc`).
 * In the joined list a SAN holding a comma looks like two SANs, so SAN matchers do not read it: they use
 * Envoy's mtls_authenticated principal, which tests each SAN of the certificate on its own. `email` is the
 * first email SAN, else a common name that is a mail address: the same rule the ext_authz service applies to
 * the parsed certificate (identity/certificate-identity.ts).
 */
export type RbacPrincipal = envoy_config_rbac_v3.Principal;
type EnvoyStringMatcher = envoy_type_matcher_v3.StringMatcher;

export const ANY: RbacPrincipal = { any: true };
export const NOTHING: RbacPrincipal = { not_id: ANY };
export const and = (ids: RbacPrincipal[]): RbacPrincipal => (ids.length === 1 ? ids[0]! : { and_ids: { ids } });
export const or = (ids: RbacPrincipal[]): RbacPrincipal => (ids.length === 1 ? ids[0]! : { or_ids: { ids } });
export const not = (id: RbacPrincipal): RbacPrincipal => ({ not_id: id });

export const present = (header: string): RbacPrincipal => ({ header: { name: header, present_match: true } });
const headerRegex = (header: string, regex: string): RbacPrincipal => ({
  header: { name: header, string_match: { safe_regex: { regex } } },
});

export function methodPrincipal(match: StringMatcher[]): RbacPrincipal {
  return and(match.map((m) => matcherPrincipal(m, (sm) => ({ header: { name: ':method', string_match: sm } }))));
}

export function pathPrincipal(match: StringMatcher[]): RbacPrincipal {
  return and(match.map((m) => matcherPrincipal(m, (sm) => ({ url_path: { path: sm } }))));
}

/** One string matcher as an Envoy StringMatcher (`not` as a negated `is`, `in` as any of several). */
function matcherPrincipal(m: StringMatcher, wrap: (sm: EnvoyStringMatcher) => RbacPrincipal): RbacPrincipal {
  switch (m.op) {
    case 'is':
      return wrap({ exact: m.value });
    case 'not':
      return not(wrap({ exact: m.value }));
    case 'starts_with':
      return wrap({ prefix: m.value });
    case 'ends_with':
      return wrap({ suffix: m.value });
    case 'contains':
      return wrap({ contains: m.value });
    case 'in':
      return m.values.length === 0 ? NOTHING : or(m.values.map((v) => wrap({ exact: v })));
  }
}

/** After the first element of a comma-joined list: the others, whatever they hold. */
const REST_OF_LIST = '(?:,[\\s\\S]*)?';

/** Some SAN of the certificate, each tested on its own (only certificates Envoy validated have any). */
function someSan(type: 'DNS' | 'EMAIL' | 'URI', matcher: EnvoyStringMatcher): RbacPrincipal {
  const typedConfig = typed(MTLS_AUTHENTICATED, { san_matcher: { san_type: type, matcher } });
  return { custom: { name: 'envoy.rbac.principals.mtls_authenticated', typed_config: typedConfig } };
}
const MTLS_AUTHENTICATED = 'envoy.extensions.rbac.principals.mtls_authenticated.v3.Config';

/**
 * The email comes from the SANs when the first one is a mail address and none holds a comma (then the first
 * element of Envoy's list is the whole first SAN); from the common name when there is no email SAN at all.
 */
const EMAIL_FROM_SAN = [
  headerRegex(PEER_HEADERS.email, `${MAIL_ADDRESS_REGEX}${REST_OF_LIST}`),
  not(someSan('EMAIL', { contains: ',' })),
];
const EMAIL_FROM_COMMON_NAME = [
  not(present(PEER_HEADERS.email)),
  headerRegex(PEER_HEADERS.subject, EMAIL_COMMON_NAME_REGEX),
];

export function emailPrincipal(match: StringMatcher[]): RbacPrincipal {
  return emailOrDomainPrincipal(match, firstElementRegex, commonNameRegex);
}

export function domainPrincipal(match: StringMatcher[]): RbacPrincipal {
  const sanRegex = (m: StringMatcher) => `${DOT_ATOM_REGEX}@${hostNameRegex(m)}${REST_OF_LIST}`;
  return emailOrDomainPrincipal(match, sanRegex, commonNameDomainRegex);
}

/**
 * `email` / `domain`: from the first email SAN when the certificate has one, else from a common name that
 * is a mail address. Each matcher is its own regex over the same value, so several must all hold.
 */
function emailOrDomainPrincipal(
  match: StringMatcher[],
  sanRegex: (m: StringMatcher) => string,
  cnRegexFor: (m: StringMatcher) => string,
): RbacPrincipal {
  const fromSan = and([...EMAIL_FROM_SAN, ...match.map((m) => negatable(m, PEER_HEADERS.email, sanRegex))]);
  const fromCn = and([...EMAIL_FROM_COMMON_NAME, ...match.map((m) => negatable(m, PEER_HEADERS.subject, cnRegexFor))]);
  return or([fromSan, fromCn]);
}

function negatable(m: StringMatcher, header: string, regexFor: (m: StringMatcher) => string): RbacPrincipal {
  if (m.op === 'not') return not(headerRegex(header, regexFor({ op: 'is', value: m.value })));
  return headerRegex(header, regexFor(m));
}

/**
 * Whether Envoy can test a `client_certificate` condition. Envoy's per-SAN principal takes one matcher: it can
 * say "some SAN matches this", not "some SAN matches all of these"; "some SAN is a host name and not this" is
 * no regex RE2 can write for a host name; and Envoy has no formatter for the SPKI hash or for UPN SANs.
 */
export function envoyTestsCondition(k: CertificateCondition): boolean {
  if (k.kind === 'fingerprint') return true;
  if (k.kind === 'spki_hash') return false;
  return k.san !== 'user_principal_name' && k.match.length === 1 && k.match[0]!.op !== 'not';
}

export function certificatePrincipal(conditions: CertificateCondition[]): RbacPrincipal {
  return and(conditions.map(conditionPrincipal));
}

function conditionPrincipal(k: CertificateCondition): RbacPrincipal {
  if (k.kind === 'fingerprint') {
    return or(k.values.map((v) => ({ header: { name: PEER_HEADERS.fingerprint, string_match: { exact: v } } })));
  }
  const m = k.kind === 'san' && k.match.length === 1 ? k.match[0]! : undefined;
  if (k.kind === 'san' && k.san !== 'user_principal_name' && m && m.op !== 'not') {
    // The fingerprint header is there only when the certificate is valid for this route (http-filters.ts);
    // the principal alone would also see a certificate valid only for another route of the host.
    return and([present(PEER_HEADERS.fingerprint), sanPrincipal(k.san, m)]);
  }
  throw new Error(`client_certificate ${k.kind} is decided by the ext_authz service (model/authorization.ts)`);
}

/** Some SAN of the type meets `m`: DNS SANs as host names (certificates/host-names.ts), the others as written. */
function sanPrincipal(san: 'dns' | 'email' | 'uri', m: StringMatcher): RbacPrincipal {
  // A regex even for `is`: Envoy compares an exact DNS SAN matcher with wildcard rules (`*.example.com`
  // would match `a.example.com`), which is not what a policy value means.
  if (san === 'dns') return someSan('DNS', { safe_regex: { regex: hostNameRegex(m) } });
  return matcherPrincipal(m, (sm) => someSan(san === 'email' ? 'EMAIL' : 'URI', sm));
}

/** A regex for one value made of characters matching `char`, as the matcher says. */
function valueRegex(m: StringMatcher, char: string): string {
  const any = `${char}*`;
  switch (m.op) {
    case 'is':
    case 'not':
      return quoteRegex(m.value);
    case 'starts_with':
      return quoteRegex(m.value) + any;
    case 'ends_with':
      return any + quoteRegex(m.value);
    case 'contains':
      return any + quoteRegex(m.value) + any;
    case 'in':
      return `(?:${m.values.map(quoteRegex).join('|') || NOTHING_REGEX})`;
  }
}

/** Envoy joins several SANs with ",": match the first element. */
export function firstElementRegex(m: StringMatcher): string {
  // A value with a comma would span two SANs: no single SAN can match it.
  const commaFree = (v: string): boolean => !v.includes(',');
  const single: StringMatcher =
    m.op === 'in' ? { ...m, values: m.values.filter(commaFree) } : commaFree(m.value) ? m : { op: 'in', values: [] };
  return `${valueRegex(single, '[^,]')}${REST_OF_LIST}`;
}
