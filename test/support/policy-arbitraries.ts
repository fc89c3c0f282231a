// Random route policies that Envoy decides itself (every operator, criterion and string matcher of them), and
// random requests to judge them on, for the property test that Envoy's RBAC and the ext_authz evaluator agree.
// Matcher values come mostly from the certificate of the request, cut as the matcher needs (a prefix for
// starts_with...), so that criteria hold about as often as not: a property where everything is denied proves nothing.
import fc from 'fast-check';
import type {
  CertificateCondition,
  Location,
  PolicyClause,
  PolicyCriterion,
  RoutePolicy,
  StringMatcher,
} from '../../control-plane/src/config/index.js';
import {
  anyValue,
  domainValue,
  hostNameValue,
  methodValue,
  pathValue,
  type MatcherValue,
} from '../../control-plane/src/policy/matcher-values.js';
import type { CertificateIdentity } from '../../control-plane/src/identity/types.js';
import { comparableHostName } from '../../control-plane/src/certificates/host-names.js';
import type { PeerCertificate, PolicyRequest } from './envoy-policy-route.js';
import type { FuzzCertificate } from './identity-fuzz.js';

const AT: Location = { file: 'config.yaml', line: 1, key: 'routes[0].policy' };

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
export const PATHS = ['/', '/admin', '/admin/users', '/api/v1', '/api/v1/admin', '/public/index.html'];
const MATCHER_OPS = ['is', 'not', 'starts_with', 'ends_with', 'contains', 'in'] as const;
/** `not` on a SAN is decided by the ext_authz service (model/authorization.ts needsExtAuthz). */
const SAN_MATCHER_OPS = MATCHER_OPS.filter((op) => op !== 'not');

/** Values no certificate of the pool has to hold, so that a matcher fails as often as it holds. */
const STRANGERS = {
  email: ['alice@example.com', 'mallory@victim.ex'],
  host: ['example.com', 'victim.ex', 'corp.example.com'],
  uri: ['spiffe://example.com/ns/a'],
};

const USERS = ['alice', 'bob', 'carol'];
const DOMAINS = ['example.com', 'corp.example.com', 'victim.ex', 'Example.ORG'];

/**
 * Plain certificates, as an organisation issues them (identity-fuzz.ts makes the odd ones): an email common
 * name or a plain one, and a few email, DNS and URI SANs under a handful of domains.
 */
export const plainCertificate: fc.Arbitrary<FuzzCertificate> = fc
  .record({
    user: fc.constantFrom(...USERS),
    domain: fc.constantFrom(...DOMAINS),
    emailCn: fc.boolean(),
    kinds: fc.array(fc.constantFrom('email', 'dns', 'uri'), { maxLength: 3 }),
    host: fc.constantFrom('www', 'api', 'db'),
  })
  .map(({ user, domain, emailCn, kinds, host }) => ({
    subject: [
      [['O', 'Example'] as [string, string]],
      [['CN', emailCn ? `${user}@${domain}` : user] as [string, string]],
    ],
    sans: kinds.map((k): ['email' | 'dns' | 'uri', string] =>
      k === 'email'
        ? ['email', `${user}@${domain}`]
        : k === 'dns'
          ? ['dns', `${host}.${domain}`]
          : ['uri', `spiffe://${domain}/ns/${user}`],
    ),
  }));

/** A value (never empty) cut from `base` as `op` reads it: a prefix for starts_with, a suffix for ends_with... */
function cut(base: string, op: StringMatcher['op'], a: number, b: number): string {
  if (base.length <= 1) return base;
  const i = a % base.length;
  const j = i + 1 + (b % (base.length - i));
  if (op === 'starts_with') return base.slice(0, i + 1);
  if (op === 'ends_with') return base.slice(i);
  if (op === 'contains') return base.slice(i, j);
  return base;
}

/**
 * One matcher over values drawn from `bases`, kept as the config loader keeps it (`normalise`); a value the
 * loader would refuse is replaced by `fallback`, a valid whole value.
 */
function matcher(
  bases: string[],
  normalise: MatcherValue,
  fallback: string,
  ops: readonly StringMatcher['op'][] = MATCHER_OPS,
): fc.Arbitrary<StringMatcher> {
  const keep = (op: StringMatcher['op'], v: string): string => {
    const kept = normalise(op, v);
    return 'error' in kept ? fallback : kept.value;
  };
  return fc
    .record({
      op: fc.constantFrom(...ops),
      base: fc.constantFrom(...bases),
      a: fc.nat(),
      b: fc.nat(),
      others: fc.subarray(bases, { maxLength: Math.min(2, bases.length) }),
    })
    .map(({ op, base, a, b, others }): StringMatcher =>
      op === 'in'
        ? { op, values: [base, ...others].map((v) => keep(op, v)) }
        : { op, value: keep(op, cut(base, op, a, b)) },
    );
}

const matchers = (m: fc.Arbitrary<StringMatcher>) => fc.array(m, { minLength: 1, maxLength: 2 });

/** The values of one certificate that policies compare with, and strangers beside them. */
function valuesOf(identity: CertificateIdentity) {
  const hosts = identity.sans.dns.map(comparableHostName).filter((h): h is string => h !== undefined);
  const defined = (vs: Array<string | undefined>) => vs.filter((v): v is string => v !== undefined && v !== '');
  return {
    email: defined([identity.email, ...identity.sans.email, identity.commonName, ...STRANGERS.email]),
    domain: defined([identity.domain, ...hosts, ...STRANGERS.host]),
    dns: [...hosts, ...STRANGERS.host],
    sanEmail: defined([...identity.sans.email, ...STRANGERS.email]),
    uri: defined([...identity.sans.uri, ...STRANGERS.uri]),
  };
}

function criterion(identity: CertificateIdentity, otherFingerprint: string): fc.Arbitrary<PolicyCriterion> {
  const v = valuesOf(identity);
  const san = fc.oneof(
    matcher(v.dns, hostNameValue, 'example.com', SAN_MATCHER_OPS).map((m): CertificateCondition => ({
      kind: 'san',
      san: 'dns',
      match: [m],
    })),
    matcher(v.sanEmail, anyValue, 'alice@example.com', SAN_MATCHER_OPS).map((m): CertificateCondition => ({
      kind: 'san',
      san: 'email',
      match: [m],
    })),
    matcher(v.uri, anyValue, 'spiffe://example.com/ns/a', SAN_MATCHER_OPS).map((m): CertificateCondition => ({
      kind: 'san',
      san: 'uri',
      match: [m],
    })),
  );
  const fingerprint = fc
    .subarray([identity.fingerprint, otherFingerprint], { minLength: 1 })
    .map((values): CertificateCondition => ({ kind: 'fingerprint', values }));
  return fc.oneof(
    {
      arbitrary: fc
        .constantFrom(
          'accept' as const,
          'reject' as const,
          'authenticated_user' as const,
          'invalid_client_certificate' as const,
        )
        .map((kind) => ({ kind, at: AT })),
      weight: 2,
    },
    {
      arbitrary: matchers(matcher(METHODS, methodValue, 'GET')).map((match) => ({
        kind: 'http_method' as const,
        match,
        at: AT,
      })),
      weight: 1,
    },
    {
      arbitrary: matchers(matcher(PATHS, pathValue, '/')).map((match) => ({
        kind: 'http_path' as const,
        match,
        at: AT,
      })),
      weight: 1,
    },
    {
      arbitrary: matchers(matcher(v.email, anyValue, 'alice@example.com')).map((match) => ({
        kind: 'email' as const,
        match,
        at: AT,
      })),
      weight: 2,
    },
    {
      arbitrary: matchers(matcher(v.domain, domainValue, 'example.com')).map((match) => ({
        kind: 'domain' as const,
        match,
        at: AT,
      })),
      weight: 2,
    },
    {
      arbitrary: fc
        .array(fc.oneof(san, san, fingerprint), { minLength: 1, maxLength: 2 })
        .map((conditions) => ({ kind: 'client_certificate' as const, conditions, at: AT })),
      weight: 3,
    },
  );
}

function clause(identity: CertificateIdentity, otherFingerprint: string): fc.Arbitrary<PolicyClause> {
  return fc.record({
    operator: fc.constantFrom('and' as const, 'or' as const, 'not' as const, 'nor' as const),
    criteria: fc.array(criterion(identity, otherFingerprint), { minLength: 1, maxLength: 3 }),
    at: fc.constant(AT),
  });
}

export function policyFor(identity: CertificateIdentity, otherFingerprint: string): fc.Arbitrary<RoutePolicy> {
  const clauses = (max: number) => fc.array(clause(identity, otherFingerprint), { maxLength: max });
  return fc.record({ allow: clauses(3), deny: clauses(2) }).filter((p) => p.allow.length + p.deny.length > 0);
}

const peer = (identity: CertificateIdentity): fc.Arbitrary<PeerCertificate> =>
  fc.oneof(
    { arbitrary: fc.constant({ state: 'valid' as const, identity }), weight: 6 },
    { arbitrary: fc.constant({ state: 'none' as const }), weight: 1 },
    {
      arbitrary: fc.constantFrom('unverified' as const, 'other-route' as const).map((state) => ({ state, identity })),
      weight: 2,
    },
  );

export const request = (identity: CertificateIdentity): fc.Arbitrary<PolicyRequest> =>
  fc.record({
    method: fc.constantFrom(...METHODS),
    // A query string that looks like another path: a policy on the path must not read it.
    path: fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom('', '', '?next=/admin')).map(([p, q]) => p + q),
    peer: peer(identity),
  });

/** A certificate of the pool, a policy over its values, and a request that presents it (or not). */
export function policyCase(
  identities: CertificateIdentity[],
): fc.Arbitrary<{ policy: RoutePolicy; request: PolicyRequest }> {
  return fc
    .tuple(fc.nat(identities.length - 1), fc.nat(identities.length - 1))
    .chain(([i, j]) =>
      fc.record({ policy: policyFor(identities[i]!, identities[j]!.fingerprint), request: request(identities[i]!) }),
    );
}

/** The features a policy uses, to show that the generator produces every one of them. */
export function policyFeatures(policy: RoutePolicy): Set<string> {
  const out = new Set<string>();
  const addMatchers = (ms: StringMatcher[]) => ms.forEach((m) => out.add(`matcher ${m.op}`));
  for (const [action, clauses] of [
    ['allow', policy.allow],
    ['deny', policy.deny],
  ] as const) {
    for (const c of clauses) {
      out.add(`${action} ${c.operator}`);
      for (const k of c.criteria) {
        out.add(`criterion ${k.kind}`);
        if ('match' in k) addMatchers(k.match);
        if (k.kind === 'client_certificate') {
          for (const cond of k.conditions) {
            out.add(cond.kind === 'san' ? `san ${cond.san}` : cond.kind);
            if (cond.kind === 'san') addMatchers(cond.match);
          }
        }
      }
    }
  }
  return out;
}

/** Every feature the generator must produce. */
export const ALL_FEATURES = [
  ...['allow', 'deny'].flatMap((a) => ['and', 'or', 'not', 'nor'].map((o) => `${a} ${o}`)),
  ...[
    'accept',
    'reject',
    'authenticated_user',
    'invalid_client_certificate',
    'http_method',
    'http_path',
    'email',
    'domain',
    'client_certificate',
  ].map((k) => `criterion ${k}`),
  ...MATCHER_OPS.map((op) => `matcher ${op}`),
  'fingerprint',
  'san dns',
  'san email',
  'san uri',
];
