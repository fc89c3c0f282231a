import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type {
  CertificateCondition,
  PolicyClause,
  PolicyCriterion,
  RoutePolicy,
  StringMatcher,
} from '../../../control-plane/src/config/index.js';
import type { CertificateIdentity } from '../../../control-plane/src/identity/types.js';
import {
  describeCriterion,
  evaluatePolicy,
  usesRequest,
  type RequestFacts,
} from '../../../control-plane/src/policy/index.js';

const at = { file: 'config.yaml', line: 1, key: 'routes[0].policy' };

const alice: CertificateIdentity = {
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
const device: CertificateIdentity = {
  fingerprint: 'bb'.repeat(32),
  spkiHash: 'c3BraS1kZXZpY2U=',
  subject: 'CN=device-7',
  issuer: 'CN=Test CA A',
  commonName: 'device-7',
  sans: { dns: [], email: [], uri: [], user_principal_name: [], ip_address: [] },
  user: 'device-7',
};

function facts(over: Partial<RequestFacts> = {}): RequestFacts {
  return { method: 'GET', path: '/', identity: alice, invalidClientCertificate: false, ...over };
}

const is = (value: string): StringMatcher => ({ op: 'is', value });

const c = {
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

const and = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'and', criteria, at });
const or = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'or', criteria, at });
const not = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'not', criteria, at });
const nor = (...criteria: PolicyCriterion[]): PolicyClause => ({ operator: 'nor', criteria, at });

const allow = (...clauses: PolicyClause[]): RoutePolicy => ({ allow: clauses, deny: [] });

/** Whether a single criterion, alone in an allow rule, lets the request in. */
function holds(criterion: PolicyCriterion, f: RequestFacts = facts()): boolean {
  return evaluatePolicy(allow(and(criterion)), f).allowed;
}

describe('criteria', () => {
  test('accept and reject', () => {
    assert.equal(holds(c.accept(), facts({ identity: undefined })), true);
    assert.equal(holds(c.reject()), false);
  });

  test('authenticated_user: a valid client certificate', () => {
    assert.equal(holds(c.authenticated()), true);
    assert.equal(holds(c.authenticated(), facts({ identity: undefined })), false);
  });

  test('invalid_client_certificate follows the fact', () => {
    assert.equal(holds(c.invalidCert(), facts({ identity: undefined, invalidClientCertificate: true })), true);
    assert.equal(holds(c.invalidCert(), facts({ identity: undefined, invalidClientCertificate: false })), false);
    assert.equal(holds(c.invalidCert()), false);
  });

  test('email, domain and user match the identity fields', () => {
    assert.equal(holds(c.email(is('alice@example.com'))), true);
    assert.equal(holds(c.email(is('bob@example.com'))), false);
    assert.equal(holds(c.domain(is('example.com'))), true);
    assert.equal(holds(c.domain(is('example.org'))), false);
    assert.equal(holds(c.user(is('alice@corp'))), true);
    assert.equal(holds(c.user(is('device-7')), facts({ identity: device })), true);
  });

  test('an absent identity field never matches, not even `not`', () => {
    assert.equal(holds(c.email({ op: 'not', value: 'x@y' }), facts({ identity: device })), false);
    assert.equal(holds(c.domain({ op: 'contains', value: '' }), facts({ identity: device })), false);
    assert.equal(holds(c.email({ op: 'not', value: 'x@y' }), facts({ identity: undefined })), false);
    assert.equal(holds(c.user({ op: 'starts_with', value: '' }), facts({ identity: undefined })), false);
  });

  test('several matchers in one criterion must all match', () => {
    assert.equal(
      holds(c.email({ op: 'starts_with', value: 'alice' }, { op: 'ends_with', value: '@example.com' })),
      true,
    );
    assert.equal(
      holds(c.email({ op: 'starts_with', value: 'alice' }, { op: 'ends_with', value: '@example.org' })),
      false,
    );
  });

  test('http_method and http_path look at the request', () => {
    assert.equal(holds(c.method(is('GET'))), true);
    assert.equal(holds(c.method(is('GET')), facts({ method: 'POST' })), false);
    assert.equal(holds(c.path({ op: 'starts_with', value: '/admin' }), facts({ path: '/admin/users' })), true);
    assert.equal(holds(c.path({ op: 'starts_with', value: '/admin' }), facts({ path: '/public' })), false);
    // No identity needed for request criteria.
    assert.equal(holds(c.method(is('GET')), facts({ identity: undefined })), true);
  });

  test('client_certificate fingerprint and spki_hash: the value is one of the list', () => {
    assert.equal(holds(c.cert({ kind: 'fingerprint', values: ['00'.repeat(32), alice.fingerprint] })), true);
    assert.equal(holds(c.cert({ kind: 'fingerprint', values: [device.fingerprint] })), false);
    assert.equal(holds(c.cert({ kind: 'spki_hash', values: [alice.spkiHash] })), true);
    assert.equal(holds(c.cert({ kind: 'spki_hash', values: [device.spkiHash] })), false);
  });

  test('client_certificate san: some SAN of the type matches every matcher', () => {
    assert.equal(holds(c.cert({ kind: 'san', san: 'dns', match: [{ op: 'ends_with', value: '.example.com' }] })), true);
    assert.equal(holds(c.cert({ kind: 'san', san: 'email', match: [is('alice@example.com')] })), true);
    assert.equal(
      holds(c.cert({ kind: 'san', san: 'uri', match: [{ op: 'starts_with', value: 'spiffe://example.com/' }] })),
      true,
    );
    assert.equal(holds(c.cert({ kind: 'san', san: 'user_principal_name', match: [is('alice@corp')] })), true);
    // The DNS name is not an email SAN.
    assert.equal(holds(c.cert({ kind: 'san', san: 'email', match: [is('alice.example.com')] })), false);
    // No SAN of the type at all.
    assert.equal(
      holds(c.cert({ kind: 'san', san: 'dns', match: [{ op: 'contains', value: '' }] }), facts({ identity: device })),
      false,
    );
  });

  test('DNS SANs compare as host names: in lower case, and one that is no host name matches nothing, not even `not`', () => {
    const withDns = (...dns: string[]) => facts({ identity: { ...alice, sans: { ...alice.sans, dns } } });
    const dns = (...match: StringMatcher[]) => c.cert({ kind: 'san', san: 'dns', match });
    assert.equal(holds(dns(is('victim.ex')), withDns('WWW.Victim.EX', 'Victim.EX')), true);
    // One SAN "evil.ex,victim.ex" is not two, and is no host name.
    for (const m of [
      is('victim.ex'),
      is('evil.ex'),
      { op: 'ends_with', value: '.ex' } as const,
      { op: 'contains', value: 'victim' } as const,
      { op: 'not', value: 'x.ex' } as const,
    ]) {
      assert.equal(holds(dns(m), withDns('evil.ex,victim.ex')), false, JSON.stringify(m));
    }
    for (const lookalike of ['victim.\u0435x', 'ｖictim.ex', 'victim\u3002ex', '*.victim.ex', 'victim.ex.']) {
      assert.equal(holds(dns({ op: 'ends_with', value: 'victim.ex' }), withDns(lookalike)), false, lookalike);
    }
    assert.equal(
      holds(dns({ op: 'not', value: 'victim.ex' }), withDns('evil.ex,victim.ex', 'other.ex')),
      true,
      'another SAN is a host name',
    );
    // Email and URI SANs compare as written, commas and all: per SAN, never per piece.
    const withUri = facts({ identity: { ...alice, sans: { ...alice.sans, uri: ['spiffe://example.com/a,b'] } } });
    assert.equal(holds(c.cert({ kind: 'san', san: 'uri', match: [is('spiffe://example.com/a,b')] }), withUri), true);
    assert.equal(holds(c.cert({ kind: 'san', san: 'uri', match: [is('b')] }), withUri), false);
  });

  test('client_certificate: every condition must hold, and it needs a certificate', () => {
    const both = c.cert(
      { kind: 'fingerprint', values: [alice.fingerprint] },
      { kind: 'san', san: 'email', match: [is('alice@example.com')] },
    );
    assert.equal(holds(both), true);
    const mixed = c.cert(
      { kind: 'fingerprint', values: [alice.fingerprint] },
      { kind: 'san', san: 'email', match: [is('bob@example.com')] },
    );
    assert.equal(holds(mixed), false);
    assert.equal(
      holds(c.cert({ kind: 'fingerprint', values: [alice.fingerprint] }), facts({ identity: undefined })),
      false,
    );
  });
});

describe('string matchers', () => {
  const email = (m: StringMatcher): boolean => holds(c.email(m));
  test('is', () => {
    assert.equal(email({ op: 'is', value: 'alice@example.com' }), true);
    assert.equal(email({ op: 'is', value: 'Alice@example.com' }), false);
  });
  test('starts_with', () => {
    assert.equal(email({ op: 'starts_with', value: 'alice@' }), true);
    assert.equal(email({ op: 'starts_with', value: 'bob@' }), false);
  });
  test('ends_with', () => {
    assert.equal(email({ op: 'ends_with', value: '@example.com' }), true);
    assert.equal(email({ op: 'ends_with', value: '@example.org' }), false);
  });
  test('contains', () => {
    assert.equal(email({ op: 'contains', value: 'ce@ex' }), true);
    assert.equal(email({ op: 'contains', value: 'bob' }), false);
  });
  test('not', () => {
    assert.equal(email({ op: 'not', value: 'bob@example.com' }), true);
    assert.equal(email({ op: 'not', value: 'alice@example.com' }), false);
  });
  test('in', () => {
    assert.equal(email({ op: 'in', values: ['bob@example.com', 'alice@example.com'] }), true);
    assert.equal(email({ op: 'in', values: ['bob@example.com'] }), false);
    assert.equal(email({ op: 'in', values: [] }), false);
  });
});

describe('operators', () => {
  const T = c.accept;
  const F = c.reject;
  const cases: Array<[string, (...x: PolicyCriterion[]) => PolicyClause, Array<() => PolicyCriterion>, boolean]> = [
    ['and: all true', and, [T, T], true],
    ['and: one false', and, [T, F], false],
    ['or: one true', or, [F, T], true],
    ['or: all false', or, [F, F], false],
    ['not: none true (¬A ∧ ¬B)', not, [F, F], true],
    ['not: one true', not, [F, T], false],
    ['not: all true', not, [T, T], false],
    ['nor: one false (¬A ∨ ¬B)', nor, [T, F], true],
    ['nor: all false', nor, [F, F], true],
    ['nor: all true', nor, [T, T], false],
  ];
  for (const [name, op, criteria, expected] of cases) {
    test(name, () => assert.equal(evaluatePolicy(allow(op(...criteria.map((f) => f()))), facts()).allowed, expected));
  }

  test('an empty clause never holds, whatever its operator', () => {
    for (const op of [and, or, not, nor]) {
      assert.equal(evaluatePolicy(allow(op()), facts()).allowed, false, op().operator);
      // ... and an empty deny clause denies nothing.
      assert.equal(evaluatePolicy({ allow: [and(c.accept())], deny: [op()] }, facts()).allowed, true, op().operator);
    }
  });

  test('not with real criteria: anyone but bob', () => {
    const policy = allow(not(c.email(is('bob@example.com')), c.domain(is('example.org'))));
    assert.equal(evaluatePolicy(policy, facts()).allowed, true);
    assert.equal(evaluatePolicy(policy, facts({ identity: { ...alice, email: 'bob@example.com' } })).allowed, false);
  });
});

describe('allow and deny', () => {
  test('deny wins over allow', () => {
    const policy: RoutePolicy = { allow: [and(c.accept())], deny: [or(c.email(is('alice@example.com')))] };
    const d = evaluatePolicy(policy, facts());
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'denied by deny rule 1: email is "alice@example.com"');
  });

  test('a deny rule that does not hold leaves the allow', () => {
    const policy: RoutePolicy = { allow: [and(c.accept())], deny: [or(c.email(is('bob@example.com')))] };
    assert.equal(evaluatePolicy(policy, facts()).allowed, true);
  });

  test('no allow rule: denied', () => {
    const d = evaluatePolicy({ allow: [], deny: [] }, facts());
    assert.equal(d.allowed, false);
    assert.match(d.reason, /no allow rule/);
  });

  test('any allow clause is enough (clauses are ORed)', () => {
    const policy = allow(and(c.email(is('bob@example.com'))), and(c.domain(is('example.com'))));
    const d = evaluatePolicy(policy, facts());
    assert.equal(d.allowed, true);
    assert.equal(d.reason, 'allowed by allow rule 2: domain is "example.com"');
  });
});

describe('reasons', () => {
  test('the deny rule that decided is numbered from 1 and names the criterion that held', () => {
    const policy: RoutePolicy = {
      allow: [and(c.accept())],
      deny: [and(c.reject()), or(c.domain(is('example.org')), c.email(is('bob@example.com')))],
    };
    const d = evaluatePolicy(policy, facts({ identity: { ...alice, email: 'bob@example.com' } }));
    assert.equal(d.reason, 'denied by deny rule 2: email is "bob@example.com"');
  });

  test('no allow matched names what each rule needs; for `and` only the missing criteria', () => {
    const policy = allow(
      and(c.authenticated(), c.domain(is('corp.example'))),
      or(c.email(is('root@example.com')), c.user(is('root'))),
    );
    const d = evaluatePolicy(policy, facts());
    assert.equal(
      d.reason,
      'no allow rule matched (allow rule 1 needs: domain is "corp.example"; allow rule 2 needs: (email is "root@example.com") or (user is "root"))',
    );
  });

  test('the example from the brief', () => {
    const d = evaluatePolicy(allow(and(c.domain(is('example.com')))), facts({ identity: device }));
    assert.equal(d.reason, 'no allow rule matched (allow rule 1 needs: domain is "example.com")');
  });

  test('allowed names the rule', () => {
    assert.equal(evaluatePolicy(allow(and(c.accept())), facts()).reason, 'allowed by allow rule 1: accept (anyone)');
    assert.equal(
      evaluatePolicy(allow(or(c.reject(), c.authenticated())), facts()).reason,
      'allowed by allow rule 1: a valid client certificate',
    );
  });

  test('not and nor read as negations', () => {
    const notPolicy: RoutePolicy = { allow: [and(c.accept())], deny: [not(c.authenticated())] };
    assert.equal(
      evaluatePolicy(notPolicy, facts({ identity: undefined })).reason,
      'denied by deny rule 1: not (a valid client certificate)',
    );
    const norPolicy: RoutePolicy = {
      allow: [and(c.accept())],
      deny: [nor(c.authenticated(), c.domain(is('example.com')))],
    };
    assert.equal(
      evaluatePolicy(norPolicy, facts({ identity: device })).reason,
      'denied by deny rule 1: not (domain is "example.com")',
    );
    assert.equal(
      evaluatePolicy(allow(nor(c.accept(), c.authenticated())), facts()).reason,
      'no allow rule matched (allow rule 1 needs: not ((accept (anyone)) and (a valid client certificate)))',
    );
  });

  test('many allow rules are summarised, not listed', () => {
    const policy = allow(...['a', 'b', 'c', 'd', 'e'].map((u) => and(c.user(is(u)))));
    const d = evaluatePolicy(policy, facts());
    assert.match(d.reason, /allow rule 3 needs: user is "c"; and 2 more\)$/);
    assert.doesNotMatch(d.reason, /rule 4/);
  });

  test('reasons stay on one line whatever the values hold', () => {
    const d = evaluatePolicy(allow(and(c.path(is('/a\nb')))), facts());
    assert.doesNotMatch(d.reason, /\n/);
  });

  test('describeCriterion', () => {
    assert.equal(describeCriterion(c.email(is('bob@example.com'))), 'email is "bob@example.com"');
    assert.equal(describeCriterion(c.email({ op: 'not', value: 'x' })), 'email is not "x"');
    assert.equal(
      describeCriterion(c.domain({ op: 'in', values: ['a.com', 'b.com'] })),
      'domain is one of "a.com", "b.com"',
    );
    assert.equal(
      describeCriterion(c.user({ op: 'in', values: ['1', '2', '3', '4', '5', '6', '7'] })),
      'user is one of "1", "2", "3", "4", "5" (and 2 more)',
    );
    assert.equal(describeCriterion(c.method(is('POST'))), 'method is "POST"');
    assert.equal(
      describeCriterion(c.path({ op: 'starts_with', value: '/admin' }, { op: 'contains', value: 'x' })),
      'path starts with "/admin" and path contains "x"',
    );
    assert.equal(describeCriterion(c.email({ op: 'ends_with', value: '@x' })), 'email ends with "@x"');
    assert.equal(describeCriterion(c.invalidCert()), 'a missing or invalid client certificate');
    assert.equal(describeCriterion(c.cert({ kind: 'fingerprint', values: ['ab'] })), 'certificate fingerprint is "ab"');
    assert.equal(
      describeCriterion(c.cert({ kind: 'spki_hash', values: ['x', 'y'] })),
      'certificate public key hash is one of "x", "y"',
    );
    assert.equal(
      describeCriterion(c.cert({ kind: 'san', san: 'dns', match: [{ op: 'ends_with', value: '.corp' }] })),
      'a certificate DNS SAN ends with ".corp"',
    );
  });
});

describe('usesRequest', () => {
  test('true only when a criterion looks at the method or path, in allow or deny', () => {
    assert.equal(usesRequest(allow(and(c.email(is('a'))), or(c.authenticated()))), false);
    assert.equal(usesRequest(allow(and(c.email(is('a')), c.method(is('GET'))))), true);
    assert.equal(usesRequest({ allow: [and(c.accept())], deny: [not(c.path(is('/x')))] }), true);
    assert.equal(usesRequest({ allow: [], deny: [] }), false);
  });
});
