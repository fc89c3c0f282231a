// Evaluating a route policy against the facts of a request.
// Here: operators, allow and deny, reasons, and usesRequest.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyClause, PolicyCriterion, RoutePolicy } from '../../../control-plane/src/config/index.js';
import { describeCriterion, evaluatePolicy, usesRequest } from '../../../control-plane/src/policy/index.js';
import { alice, device, facts, is, c, and, or, not, nor, allow } from './evaluate-fixture.js';

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
      'no allow rule matched (allow rule 1 needs: domain is "corp.example"; ' +
        'allow rule 2 needs: (email is "root@example.com") or (user is "root"))',
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

describe('the words of a denial on its page', () => {
  test('name the kind of rule, not the people or certificates it lets in; the log keeps the values', () => {
    const at = { file: 'f', line: 1, key: 'k' };
    const email: PolicyCriterion = { kind: 'email', match: [{ op: 'is', value: 'ceo@example.com' }], at };
    const path: PolicyCriterion = { kind: 'http_path', match: [{ op: 'starts_with', value: '/admin' }], at };
    const policy: RoutePolicy = { allow: [{ operator: 'and', criteria: [email, path], at }], deny: [] };
    const d = evaluatePolicy(policy, {
      identity: undefined,
      invalidClientCertificate: false,
      method: 'GET',
      path: '/',
    });
    assert.equal(d.allowed, false);
    assert.match(d.reason, /ceo@example\.com/);
    const needs = '(a certificate email this page accepts) and (path starts with "/admin")';
    assert.equal(d.pageReason, `no allow rule matched (allow rule 1 needs: ${needs})`);
    const allowed = evaluatePolicy(
      { allow: [{ operator: 'or', criteria: [path], at }], deny: [] },
      {
        identity: undefined,
        invalidClientCertificate: false,
        method: 'GET',
        path: '/admin/x',
      },
    );
    assert.equal(allowed.pageReason, undefined);
  });
});
