import type { CertificateCondition, PolicyClause, PolicyCriterion, RoutePolicy, StringMatcher } from '../config/index.js';
import { PEER_HEADERS } from '../policy/internal-headers.js';
import { commonNameDomainRegex, commonNameRegex, EMAIL_COMMON_NAME_REGEX } from './distinguished-name.js';
import { DOT_ATOM_REGEX, hostNameRegex, MAIL_ADDRESS_REGEX, NOTHING_REGEX } from './host-name-regex.js';
import { quoteRegex } from './regex-text.js';
import { typed } from './common.js';
import type { EnvoyJson } from './types.js';

/**
 * A PPL policy as Envoy RBAC principals, over the request (`:method`, the path) and the internal headers that
 * carry the certificate's properties (set from Envoy's own %DOWNSTREAM_PEER_*% formatters, removed by the
 * client-certificate filter when the certificate is not valid for the route; see http-filters.ts).
 *
 * Header values are Envoy's: several SANs are joined with ",", the subject is RFC 2253 (`CN=a,O=Org\, Inc`).
 * In the joined list a SAN holding a comma looks like two SANs, so SAN matchers do not read it: they use
 * Envoy's mtls_authenticated principal, which tests each SAN of the certificate on its own. `email` is the
 * first email SAN, else a common name that is a mail address: the same rule the ext_authz service applies to
 * the parsed certificate (identity/certificate-identity.ts).
 */
export interface RbacPolicies {
  /** One RBAC policy per clause, named `deny-rule-N`: the name Envoy reports in the 403's details. */
  deny?: EnvoyJson;
  allow: EnvoyJson;
}

export function buildRbacPolicies(policy: RoutePolicy, clientCaRequired: boolean): RbacPolicies {
  const rules = (action: 'ALLOW' | 'DENY', clauses: PolicyClause[], prefix: string): EnvoyJson => ({
    action,
    policies: Object.fromEntries(
      clauses.map((c, i) => [`${prefix}-rule-${i + 1}`, { permissions: [{ any: true }], principals: [clausePrincipal(c, clientCaRequired)] }]),
    ),
  });
  return {
    ...(policy.deny.length > 0 ? { deny: rules('DENY', policy.deny, 'deny') } : {}),
    // No allow clause: nothing is allowed (Pomerium's rule), which an ALLOW with no policies is.
    allow: rules('ALLOW', policy.allow, 'allow'),
  };
}

const ANY: EnvoyJson = { any: true };
const NOTHING: EnvoyJson = { not_id: ANY };
const and = (ids: EnvoyJson[]): EnvoyJson => (ids.length === 1 ? ids[0]! : { and_ids: { ids } });
const or = (ids: EnvoyJson[]): EnvoyJson => (ids.length === 1 ? ids[0]! : { or_ids: { ids } });
const not = (id: EnvoyJson): EnvoyJson => ({ not_id: id });

function clausePrincipal(clause: PolicyClause, ca: boolean): EnvoyJson {
  const ids = clause.criteria.map((c) => criterionPrincipal(c, ca));
  if (ids.length === 0) return NOTHING;
  switch (clause.operator) {
    case 'and':
      return and(ids);
    case 'or':
      return or(ids);
    case 'not':
      return and(ids.map(not));
    case 'nor':
      return or(ids.map(not));
  }
}

const present = (header: string): EnvoyJson => ({ header: { name: header, present_match: true } });
const headerRegex = (header: string, regex: string): EnvoyJson => ({ header: { name: header, string_match: { safe_regex: { regex } } } });

function criterionPrincipal(c: PolicyCriterion, ca: boolean): EnvoyJson {
  switch (c.kind) {
    case 'accept':
      return ANY;
    case 'reject':
      return NOTHING;
    case 'authenticated_user':
      return present(PEER_HEADERS.fingerprint);
    case 'invalid_client_certificate':
      // Without a client CA every request is as valid as it can be (as in Pomerium).
      return ca ? not(present(PEER_HEADERS.fingerprint)) : NOTHING;
    case 'http_method':
      return and(c.match.map((m) => matcherPrincipal(m, (sm) => ({ header: { name: ':method', string_match: sm } }))));
    case 'http_path':
      return and(c.match.map((m) => matcherPrincipal(m, (sm) => ({ url_path: { path: sm } }))));
    case 'email':
      return emailPrincipal(c.match, firstElementRegex, commonNameRegex);
    case 'domain':
      return emailPrincipal(c.match, (m) => `${DOT_ATOM_REGEX}@${hostNameRegex(m)}${REST_OF_LIST}`, commonNameDomainRegex);
    case 'client_certificate':
      return and(c.conditions.map(conditionPrincipal));
    case 'user':
      throw new Error('`user` is decided by the ext_authz service (model/authorization.ts)');
  }
}

/** One string matcher as an Envoy StringMatcher (`not` as a negated `is`, `in` as any of several). */
function matcherPrincipal(m: StringMatcher, wrap: (sm: EnvoyJson) => EnvoyJson): EnvoyJson {
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
function someSan(type: 'DNS' | 'EMAIL' | 'URI', matcher: EnvoyJson): EnvoyJson {
  return { custom: { name: 'envoy.rbac.principals.mtls_authenticated', typed_config: typed(MTLS_AUTHENTICATED, { san_matcher: { san_type: type, matcher } }) } };
}
const MTLS_AUTHENTICATED = 'envoy.extensions.rbac.principals.mtls_authenticated.v3.Config';

/**
 * The email comes from the SANs when the first one is a mail address and none holds a comma (then the first
 * element of Envoy's list is the whole first SAN); from the common name when there is no email SAN at all.
 */
const EMAIL_FROM_SAN = [headerRegex(PEER_HEADERS.email, `${MAIL_ADDRESS_REGEX}${REST_OF_LIST}`), not(someSan('EMAIL', { contains: ',' }))];
const EMAIL_FROM_COMMON_NAME = [not(present(PEER_HEADERS.email)), headerRegex(PEER_HEADERS.subject, EMAIL_COMMON_NAME_REGEX)];

/**
 * `email` / `domain`: from the first email SAN when the certificate has one, else from a common name that
 * is a mail address. Each matcher is its own regex over the same value, so several must all hold.
 */
function emailPrincipal(match: StringMatcher[], sanRegex: (m: StringMatcher) => string, cnRegexFor: (m: StringMatcher) => string): EnvoyJson {
  const fromSan = and([...EMAIL_FROM_SAN, ...match.map((m) => negatable(m, PEER_HEADERS.email, sanRegex))]);
  const fromCn = and([...EMAIL_FROM_COMMON_NAME, ...match.map((m) => negatable(m, PEER_HEADERS.subject, cnRegexFor))]);
  return or([fromSan, fromCn]);
}

function negatable(m: StringMatcher, header: string, regexFor: (m: StringMatcher) => string): EnvoyJson {
  if (m.op === 'not') return not(headerRegex(header, regexFor({ op: 'is', value: m.value })));
  return headerRegex(header, regexFor(m));
}

function conditionPrincipal(k: CertificateCondition): EnvoyJson {
  if (k.kind === 'fingerprint') return or(k.values.map((v) => ({ header: { name: PEER_HEADERS.fingerprint, string_match: { exact: v } } })));
  const m = k.kind === 'san' && k.match.length === 1 ? k.match[0]! : undefined;
  if (k.kind === 'san' && k.san !== 'user_principal_name' && m && m.op !== 'not') {
    // The fingerprint header is there only when the certificate is valid for this route (http-filters.ts);
    // the principal alone would also see a certificate valid only for another route of the host.
    return and([present(PEER_HEADERS.fingerprint), sanPrincipal(k.san, m)]);
  }
  throw new Error(`client_certificate ${k.kind} is decided by the ext_authz service (model/authorization.ts)`);
}

/** Some SAN of the type meets `m`: DNS SANs as host names (identity/names.ts), the others as written. */
function sanPrincipal(san: 'dns' | 'email' | 'uri', m: StringMatcher): EnvoyJson {
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
  const single = m.op === 'in' ? { ...m, values: m.values.filter((v) => !v.includes(',')) } : m.value.includes(',') ? { op: 'in' as const, values: [] } : m;
  return `${valueRegex(single, '[^,]')}${REST_OF_LIST}`;
}
