// Shared setup of the policy evaluation tests: identities, request facts, and policy builders.
import type {
  CertificateCondition,
  PolicyClause,
  PolicyCriterion,
  RoutePolicy,
  StringMatcher,
} from '../../../control-plane/src/config/index.js';
import type { CertificateIdentity } from '../../../control-plane/src/identity/types.js';
import { evaluatePolicy, type RequestFacts } from '../../../control-plane/src/policy/index.js';

export const at = { file: 'config.yaml', line: 1, key: 'routes[0].policy' };

export const alice: CertificateIdentity = {
  fingerprint: 'aa'.repeat(32),
  spkiHash: 'c3BraS1hbGljZQ==',
  subject: 'CN=alice',
  issuer: 'CN=Test CA A',
  commonName: 'alice',
  sans: {
    dns: ['alice.example.com'],
    email: ['alice@example.com'],
    uri: ['spiffe://example.com/alice'],
    user_principal_name: ['alice@corp'],
    ip_address: [],
  },
  email: 'alice@example.com',
  user: 'alice@corp',
  domain: 'example.com',
};

/** A certificate with a CN only: no email, no domain, user = CN. */
export const device: CertificateIdentity = {
  fingerprint: 'bb'.repeat(32),
  spkiHash: 'c3BraS1kZXZpY2U=',
  subject: 'CN=device-7',
  issuer: 'CN=Test CA A',
  commonName: 'device-7',
  sans: { dns: [], email: [], uri: [], user_principal_name: [], ip_address: [] },
  user: 'device-7',
};

export function facts(over: Partial<RequestFacts> = {}): RequestFacts {
  return { method: 'GET', path: '/', identity: alice, invalidClientCertificate: false, ...over };
}

export const is = (value: string): StringMatcher => ({ op: 'is', value });

export const c = {
  accept: (): PolicyCriterion => ({ kind: 'accept', at }),
  reject: (): PolicyCriterion => ({ kind: 'reject', at }),
  authenticated: (): PolicyCriterion => ({ kind: 'authenticated_user', at }),
  invalidCert: (): PolicyCriterion => ({ kind: 'invalid_client_certificate', at }),
  email: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'email', match, at }),
  domain: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'domain', match, at }),
  user: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'user', match, at }),
  method: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'http_method', match, at }),
  path: (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'http_path', match, at }),
  cert: (...conditions: CertificateCondition[]): PolicyCriterion => ({ kind: 'client_certificate', conditions, at }),
};

export const and = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'and', criteria, at });
export const or = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'or', criteria, at });
export const not = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'not', criteria, at });
export const nor = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'nor', criteria, at });

export const allow = (...clauses: PolicyClause[]): RoutePolicy => ({ allow: clauses, deny: [] });

/** Whether a single criterion, alone in an allow rule, lets the request in. */
export function holds(criterion: PolicyCriterion, f: RequestFacts = facts()): boolean {
  return evaluatePolicy(allow(and(criterion)), f).allowed;
}
