import { X509Certificate } from 'node:crypto';
import type { Diagnostics, Location } from './diagnostics.js';
import { checkKeys, readList, readStringOrList, scalarString, type MapValue } from './fields.js';
import { anyValue, domainValue, hostNameValue, methodValue, pathValue, type MatcherValue } from './matcher-values.js';
import { decodeInlinePem, fingerprint, pemBlocks } from '../certificates/index.js';
import { describeKind, type SourceValue } from './source.js';
import type { CertificateCondition, PolicyClause, PolicyCriterion, RoutePolicy, SanType, StringMatcher } from './types.js';

/**
 * Pomerium Policy Language (PPL), as far as a client certificate and the request can answer it.
 *
 * A policy is one rule or a list of rules; a rule maps `allow` and/or `deny` to a mapping of logical
 * operators (`and`, `or`, `not`, `nor`), each to a list of criteria; a criterion is a mapping with a single
 * key, its name. Every operator of every rule becomes one PolicyClause, in source order.
 */

const ACTIONS = ['allow', 'deny'] as const;
const OPERATORS = ['and', 'or', 'not', 'nor'] as const;
const MATCHER_OPS = ['is', 'starts_with', 'ends_with', 'contains', 'not', 'in'] as const;
const CERTIFICATE_KEYS = ['fingerprint', 'spki_hash', 'certificate', 'san_dns', 'san_email', 'san_uri', 'san_user_principal_name'] as const;
const SAN_KEYS: Readonly<Record<string, SanType>> = { san_dns: 'dns', san_email: 'email', san_uri: 'uri', san_user_principal_name: 'user_principal_name' };

type FlagKind = 'accept' | 'reject' | 'invalid_client_certificate' | 'authenticated_user';
type MatchKind = 'email' | 'domain' | 'user' | 'http_method' | 'http_path';
const FLAG_CRITERIA: readonly FlagKind[] = ['accept', 'reject', 'authenticated_user', 'invalid_client_certificate'];
const MATCH_CRITERIA: readonly MatchKind[] = ['email', 'domain', 'user', 'http_method', 'http_path'];
const SUPPORTED_CRITERIA: readonly string[] = [...FLAG_CRITERIA, ...MATCH_CRITERIA, 'client_certificate'];

/** Criteria that read the client certificate: on a route that asks for none they could never see one. */
const IDENTITY_KINDS: ReadonlySet<PolicyCriterion['kind']> = new Set(['email', 'domain', 'user', 'authenticated_user', 'client_certificate', 'invalid_client_certificate']);

const WITH_IN = (criterion: string) => `use "${criterion}" (with "in" for several values), which mtls-edge reads from the client certificate`;
const BY_CERTIFICATE = 'use client_certificate (fingerprint, spki_hash, or san_dns / san_email / san_uri / san_user_principal_name matchers), or email / user / domain, which mtls-edge reads from the client certificate';

/**
 * Pomerium criteria that rest on an identity provider's session or directory. mtls-edge has none: the client
 * certificate is the identity. Each maps to the nearest criterion it does support, if there is one.
 */
const NEEDS_IDENTITY_PROVIDER: Readonly<Record<string, string>> = {
  groups: 'to admit a group of people, list them with email: {in: [...]}, or match their certificates with client_certificate (e.g. san_email: {ends_with: "@team.example.com"})',
  claim: BY_CERTIFICATE,
  claims: BY_CERTIFICATE,
  device: 'to admit particular devices, pin their certificates with client_certificate (fingerprint or spki_hash)',
  emails: WITH_IN('email'),
  users: WITH_IN('user'),
  domains: WITH_IN('domain'),
  pomerium_routes: 'there is no equivalent; list who may use the route with allow rules',
};

/** Pomerium criteria that need something else mtls-edge does not have (a clock-based rule, data sources, MCP, SSH). */
const NOT_SUPPORTED: Readonly<Record<string, string>> = {
  date: 'time-based rules are not supported',
  day_of_week: 'time-based rules are not supported',
  time_of_day: 'time-based rules are not supported',
  record: 'external data sources (records) are not supported',
  mcp_tool: 'MCP routes are not supported',
  mcp_tools: 'MCP routes are not supported',
  cors_preflight: 'it is not supported; the closest is http_method: OPTIONS (which admits every OPTIONS request, not only CORS preflights)',
};

const FINGERPRINT_SHORT = /^[0-9a-f]{64}$/;
const FINGERPRINT_LONG = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;
// Standard base64 with padding of 32 bytes: 43 characters and one "=".
const SPKI_HASH = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Reads a route's `policy`. `policy` is undefined (with every problem reported) when it is not valid;
 * `partial` holds whatever criteria did read, so that checks across the route can still report theirs.
 */
export function readPolicy(value: SourceValue, diag: Diagnostics): { policy?: RoutePolicy; partial: RoutePolicy } {
  const before = diag.errors.length;
  const partial: RoutePolicy = { allow: [], deny: [] };
  if (value.kind === 'list') {
    for (const rule of value.items) readRule(rule, partial, diag);
  } else if (value.kind === 'map') {
    // `policy: {}` is no rule at all: reported below, as for `policy: []`.
    if (value.entries.size > 0) readRule(value, partial, diag);
  } else {
    diag.error(value.at, `expected a rule (a mapping with allow and/or deny) or a list of rules, got ${describeKind(value)}`);
  }
  if (diag.errors.length > before) return { partial };
  if (partial.allow.length === 0 && partial.deny.length === 0) {
    diag.error(value.at, 'policy has no allow or deny rule (e.g. policy: {allow: {or: [{email: {is: alice@example.com}}]}})');
    return { partial };
  }
  return { policy: partial, partial };
}

/** The criteria of a policy that read the client certificate, in source order. */
export function identityCriteria(policy: RoutePolicy): PolicyCriterion[] {
  return [...policy.allow, ...policy.deny].flatMap((clause) => clause.criteria.filter((c) => IDENTITY_KINDS.has(c.kind)));
}

function readRule(rule: SourceValue, policy: RoutePolicy, diag: Diagnostics): void {
  if (rule.kind !== 'map') {
    diag.error(rule.at, `expected a rule: a mapping with allow and/or deny, got ${describeKind(rule)}`);
    return;
  }
  checkKeys(rule, ACTIONS, diag);
  if (rule.entries.size === 0) diag.error(rule.at, 'empty rule: give it allow and/or deny');
  for (const action of ACTIONS) {
    const v = rule.entries.get(action);
    if (v) policy[action].push(...readAction(v, action, diag));
  }
}

function readAction(v: SourceValue, action: string, diag: Diagnostics): PolicyClause[] {
  if (v.kind !== 'map') {
    diag.error(v.at, `expected a mapping of logical operators (and, or, not, nor) to lists of criteria, got ${describeKind(v)}`);
    return [];
  }
  checkKeys(v, OPERATORS, diag);
  if (v.entries.size === 0) diag.error(v.at, `${action} needs at least one of and, or, not, nor`);
  const clauses: PolicyClause[] = [];
  // Map order is source order: the clauses follow the file.
  for (const [key, list] of v.entries) {
    if (!(OPERATORS as readonly string[]).includes(key)) continue;
    const operator = key as PolicyClause['operator'];
    if (list.kind !== 'list') {
      diag.error(list.at, `expected a list of criteria (e.g. - email: {is: alice@example.com}), got ${describeKind(list)}`);
      continue;
    }
    if (list.items.length === 0) {
      // An empty `and` or `not` holds for every request, an empty `or` or `nor` for none: both are surely mistakes.
      diag.error(list.at, 'expected at least one criterion');
      continue;
    }
    const criteria = list.items.map((item) => readCriterion(item, diag)).filter((c): c is PolicyCriterion => c !== undefined);
    clauses.push({ operator, criteria, at: list.at });
  }
  return clauses;
}

function readCriterion(item: SourceValue, diag: Diagnostics): PolicyCriterion | undefined {
  if (item.kind !== 'map') {
    diag.error(item.at, `expected a criterion: a mapping with one key, such as email: {is: alice@example.com}; got ${describeKind(item)}`);
    return undefined;
  }
  if (item.entries.size !== 1) {
    const keys = [...item.entries.keys()];
    diag.error(
      item.at,
      keys.length === 0
        ? 'empty criterion: give it one key, such as email: {is: alice@example.com}'
        : `a criterion has exactly one key, got ${keys.length} (${keys.join(', ')}): put each in its own list item`,
    );
    return undefined;
  }
  const [key, value] = [...item.entries][0]!;
  // Pomerium names some criteria with a sub path (`claim/groups`): the name is what precedes the first "/".
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(0, slash);
  const supported = (SUPPORTED_CRITERIA as readonly string[]).includes(name);
  if (supported && slash >= 0) {
    diag.error(value.at, `${name} takes no sub path (got "${key}"); write ${name}: ...`);
    return undefined;
  }
  const at = value.at;
  if ((FLAG_CRITERIA as readonly string[]).includes(name)) {
    return requireTrue(value, name, diag) ? { kind: name as FlagKind, at } : undefined;
  }
  if ((MATCH_CRITERIA as readonly string[]).includes(name)) {
    const match = readStringMatcher(value, diag, MATCHER_VALUES[name as MatchKind]);
    return match && { kind: name as MatchKind, match, at };
  }
  if (name === 'client_certificate') {
    const conditions = readCertificateMatcher(value, diag);
    return conditions && { kind: 'client_certificate', conditions, at };
  }
  diag.error(at, unsupportedMessage(name, key));
  return undefined;
}

function unsupportedMessage(name: string, key: string): string {
  const supported = `supported criteria: ${SUPPORTED_CRITERIA.join(', ')}`;
  const idpHint = NEEDS_IDENTITY_PROVIDER[name];
  if (idpHint !== undefined) {
    const hint = (name === 'claim' || name === 'claims') ? claimHint(key) : idpHint;
    return `"${key}" needs an identity provider, which mtls-edge does not have (identity comes from the client certificate): ${hint}`;
  }
  const reason = NOT_SUPPORTED[name] ?? (name.startsWith('ssh_') ? 'SSH routes are not supported' : undefined);
  if (reason !== undefined) {
    return `"${key}" cannot be used with mtls-edge, which has no identity provider and decides from the client certificate and the request alone: ${reason}; ${supported}`;
  }
  return `unknown criterion "${key}"; ${supported}`;
}

/** `claim/email` has a direct equivalent; other claims can only be approached through the certificate. */
function claimHint(key: string): string {
  const claim = key.slice(key.indexOf('/') + 1);
  if (key.includes('/') && ['email', 'user', 'domain'].includes(claim)) return `use the "${claim}" criterion, which mtls-edge reads from the client certificate`;
  return BY_CERTIFICATE;
}

/** Pomerium ignores the value of these criteria: `accept: false` would still accept. Only `true` is taken. */
function requireTrue(value: SourceValue, name: string, diag: Diagnostics): boolean {
  if (value.kind === 'scalar' && value.value === true) return true;
  if (value.kind === 'scalar' && value.value === false) {
    diag.error(value.at, `must be true: Pomerium ignores this value, so "${name}: false" would still mean ${name}; to negate it, put "${name}: true" under not`);
  } else {
    diag.error(value.at, `expected true, got ${describeKind(value)}`);
  }
  return false;
}

const MATCHER_VALUES: Record<MatchKind, MatcherValue> = { http_method: methodValue, domain: domainValue, http_path: pathValue, email: anyValue, user: anyValue };

/** Pomerium's string matcher: a bare string (`is`) or a mapping of operators, all of which must match. */
function readStringMatcher(value: SourceValue, diag: Diagnostics, valueFor: MatcherValue = anyValue): StringMatcher[] | undefined {
  const before = diag.errors.length;
  const take = (op: StringMatcher['op'], v: SourceValue): string | undefined => {
    const s = scalarString(v, diag);
    if (!s) return undefined;
    const kept = valueFor(op, s.value);
    if ('error' in kept) {
      diag.error(s.at, kept.error);
      return undefined;
    }
    return kept.value;
  };
  if (value.kind === 'scalar' && (typeof value.value === 'string' || typeof value.value === 'number')) {
    const s = take('is', value);
    return s === undefined ? undefined : [{ op: 'is', value: s }];
  }
  if (value.kind !== 'map') {
    diag.error(value.at, `expected a string or a matcher (a mapping of ${MATCHER_OPS.join(', ')}), got ${describeKind(value)}`);
    return undefined;
  }
  checkKeys(value, MATCHER_OPS, diag);
  if (value.entries.size === 0) diag.error(value.at, `empty matcher: give at least one of ${MATCHER_OPS.join(', ')}`);
  const out: StringMatcher[] = [];
  for (const [op, v] of value.entries) {
    if (op === 'in') {
      const items = readList(value, 'in', diag);
      if (!items) continue;
      if (items.length === 0) {
        diag.error(v.at, 'expected at least one value');
        continue;
      }
      const values = items.map((item) => take('in', item)).filter((s): s is string => s !== undefined);
      out.push({ op: 'in', values });
    } else if ((MATCHER_OPS as readonly string[]).includes(op)) {
      const s = take(op as Exclude<StringMatcher['op'], 'in'>, v);
      if (s !== undefined) out.push({ op: op as Exclude<StringMatcher['op'], 'in'>, value: s });
    }
  }
  return diag.errors.length > before ? undefined : out;
}

/** Pomerium's certificate matcher: every condition given must hold. */
function readCertificateMatcher(value: SourceValue, diag: Diagnostics): CertificateCondition[] | undefined {
  if (value.kind !== 'map') {
    diag.error(value.at, `expected a certificate matcher (a mapping of ${CERTIFICATE_KEYS.join(', ')}), got ${describeKind(value)}`);
    return undefined;
  }
  const before = diag.errors.length;
  checkKeys(value, CERTIFICATE_KEYS, diag);
  if (value.entries.size === 0) diag.error(value.at, `empty certificate matcher: give at least one of ${CERTIFICATE_KEYS.join(', ')}`);
  const conditions: CertificateCondition[] = [];
  for (const [key, v] of value.entries) {
    if (key === 'fingerprint') {
      const values = readEach(value, key, diag, normaliseFingerprint);
      if (values) conditions.push({ kind: 'fingerprint', values });
    } else if (key === 'spki_hash') {
      const values = readEach(value, key, diag, normaliseSpkiHash);
      if (values) conditions.push({ kind: 'spki_hash', values });
    } else if (key === 'certificate') {
      const fp = certificateFingerprint(value, diag);
      if (fp) conditions.push({ kind: 'fingerprint', values: [fp] });
    } else if (SAN_KEYS[key]) {
      const match = readStringMatcher(v, diag, SAN_KEYS[key] === 'dns' ? hostNameValue : anyValue);
      if (match) conditions.push({ kind: 'san', san: SAN_KEYS[key], match });
    }
  }
  return diag.errors.length > before ? undefined : conditions;
}

/** A string or a list of strings, each normalised (or refused with a message naming it). */
function readEach(map: MapValue, key: string, diag: Diagnostics, normalise: (v: string) => string | { error: string }): string[] | undefined {
  const reads = readStringOrList(map, key, diag);
  if (!reads) return undefined;
  const out: string[] = [];
  for (const r of reads) {
    const n = normalise(r.value);
    if (typeof n === 'string') out.push(n);
    else diag.error(r.at, n.error);
  }
  return out.length === reads.length && out.length > 0 ? out : undefined;
}

/** Pomerium takes 64 lower-case hex digits, or 32 upper-case byte pairs joined by colons (as openssl prints). */
function normaliseFingerprint(v: string): string | { error: string } {
  if (FINGERPRINT_SHORT.test(v)) return v;
  if (FINGERPRINT_LONG.test(v)) return v.replace(/:/g, '').toLowerCase();
  return {
    error: `${JSON.stringify(v)} is not a SHA-256 fingerprint: expected 64 lower-case hex digits, or 32 upper-case hex pairs separated by colons (as printed by openssl x509 -noout -fingerprint -sha256)`,
  };
}

/** Base64 of the 32-byte SHA-256 of the SubjectPublicKeyInfo; kept in canonical base64. */
function normaliseSpkiHash(v: string): string | { error: string } {
  if (SPKI_HASH.test(v)) {
    const bytes = Buffer.from(v, 'base64');
    if (bytes.length === 32) return bytes.toString('base64');
  }
  return { error: `${JSON.stringify(v)} is not an SPKI hash: expected the base64 of a 32-byte SHA-256 (44 characters ending in "=")` };
}

/** `certificate: <PEM>` pins that one certificate: it becomes the SHA-256 fingerprint of its DER. */
function certificateFingerprint(map: MapValue, diag: Diagnostics): string | undefined {
  const read = scalarString(map.entries.get('certificate')!, diag);
  if (!read) return undefined;
  const blocks = pemBlocks(decodeInlinePem(read.value)).filter((b) => b.type === 'CERTIFICATE');
  if (blocks.length !== 1) {
    diag.error(read.at, blocks.length === 0 ? 'no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")' : `expected a single certificate, got ${blocks.length}: use one client_certificate criterion per certificate under or, or fingerprint: [...]`);
    return undefined;
  }
  try {
    return fingerprint(new X509Certificate(blocks[0]!.pem));
  } catch (e) {
    diag.error(read.at, `the certificate does not parse: ${(e as Error).message}`);
    return undefined;
  }
}

/** The clause `allow_any_authenticated_user: true` adds to a route's policy. */
export function anyAuthenticatedUserClause(at: Location): PolicyClause {
  return { operator: 'or', criteria: [{ kind: 'authenticated_user', at }], at };
}
