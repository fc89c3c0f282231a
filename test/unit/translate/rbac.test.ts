import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  PolicyClause,
  PolicyCriterion,
  RoutePolicy,
  StringMatcher,
} from '../../../control-plane/src/config/index.js';
import { buildRbacPolicies } from '../../../control-plane/src/translate/rbac.js';
import { firstElementRegex } from '../../../control-plane/src/policy/rbac-rules.js';
import {
  commonNameDomainRegex,
  commonNameRegex,
  EMAIL_COMMON_NAME_REGEX,
} from '../../../control-plane/src/policy/subject-regex.js';
import { quoteRegex } from '../../../control-plane/src/policy/regex-text.js';

// RE2 and JavaScript agree on everything these regexes use; Envoy matches the whole value.
const full = (re: string) => new RegExp(`^(?:${re})$`);
const at = { file: 'c.yaml', key: 'k', line: 1 };
const is = (value: string): StringMatcher => ({ op: 'is', value });
const clause = (operator: PolicyClause['operator'], ...criteria: PolicyCriterion[]): PolicyClause => ({
  operator,
  criteria,
  at,
});
const email = (m: StringMatcher): PolicyCriterion => ({ kind: 'email', match: [m], at });
const method = (m: StringMatcher): PolicyCriterion => ({ kind: 'http_method', match: [m], at });

describe('RBAC regexes over the values Envoy formats', () => {
  it('quotes every RE2 metacharacter', () => {
    const text = 'a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o-p';
    assert.ok(full(quoteRegex(text)).test(text));
    assert.ok(!full(quoteRegex('a.b')).test('axb'));
  });

  it('the first of several SANs, matched as the matcher says', () => {
    const sans = 'alice@example.com,al@example.org';
    const cases: Array<[StringMatcher, boolean]> = [
      [is('alice@example.com'), true],
      [is('al@example.org'), false],
      [is('alice@example'), false],
      [{ op: 'starts_with', value: 'al@' }, false],
      [{ op: 'ends_with', value: '.org' }, false],
      [{ op: 'ends_with', value: '.com' }, true],
      [{ op: 'contains', value: 'ice@' }, true],
      [{ op: 'in', values: ['x@y', 'alice@example.com'] }, true],
      [{ op: 'in', values: [] }, false],
      // A matcher never spans two SANs.
      [{ op: 'contains', value: 'com,al' }, false],
    ];
    for (const [m, first] of cases) assert.equal(full(firstElementRegex(m)).test(sans), first, JSON.stringify(m));
    // Whatever the other SANs hold, line breaks included.
    assert.ok(full(firstElementRegex(is('a@b.example'))).test('a@b.example,x\ny'));
  });

  it("the subject's common name, with RFC 2253 escapes, and only a whole common name", () => {
    const subject = 'CN=bob@example.com,O=Org\\, Inc';
    assert.ok(full(commonNameRegex(is('bob@example.com'))).test(subject));
    assert.ok(full(EMAIL_COMMON_NAME_REGEX).test(subject), 'an email-like common name');
    assert.ok(!full(EMAIL_COMMON_NAME_REGEX).test('CN=bob,O=x'), 'not an email');
    assert.ok(!full(commonNameRegex(is('bob@example'))).test(subject));
    assert.ok(full(commonNameRegex({ op: 'ends_with', value: '@example.com' })).test(subject));
    // "CN=" inside another attribute's escaped value is not a common name.
    assert.ok(!full(commonNameRegex(is('evil@x.com'))).test('O=a\\,CN=evil@x.com'));
    assert.ok(full(commonNameRegex(is('a,b'))).test('CN=a\\,b,O=x'), 'a literal comma is matched escaped');
    assert.ok(full(commonNameRegex(is('carol@x.io'))).test('O=x+CN=carol@x.io'), 'multi-valued RDN');
  });

  it('as BoringSSL prints values: escaped separators, non-ASCII bytes, "=" as is, "#" and spaces at the ends', () => {
    const cases: Array<[string, StringMatcher, boolean]> = [
      ['CN=bob\\+x@contractors.example.com', is('bob+x@contractors.example.com'), true],
      ['CN=j\\C3\\BCrgen@example.com', is('jürgen@example.com'), true],
      ['CN=j\\C3\\BCrgen@example.com', { op: 'contains', value: 'ürg' }, true],
      ['CN=x=y@example.com', is('x=y@example.com'), true],
      ['CN=\\#a@b.example', is('#a@b.example'), true],
      ['CN=\\#a@b.example', { op: 'contains', value: '#a' }, true],
      ['CN=a#b@c.example', { op: 'contains', value: '#b' }, true],
      ['CN=a#b@c.example', is('#b@c.example'), false],
    ];
    for (const [subject, m, want] of cases)
      assert.equal(full(commonNameRegex(m)).test(subject), want, `${subject} ${JSON.stringify(m)}`);
    assert.ok(full(EMAIL_COMMON_NAME_REGEX).test('CN=bob\\+x@contractors.example.com'));
    assert.ok(full(commonNameDomainRegex(is('contractors.example.com'))).test('CN=bob\\+x@Contractors.Example.com'));
  });

  it('only the first (most specific) common name counts, as in the certificate identity', () => {
    const subject = 'CN=mallory@evil.com,CN=alice@example.com,O=x';
    assert.ok(!full(commonNameRegex(is('alice@example.com'))).test(subject));
    assert.ok(full(commonNameRegex(is('mallory@evil.com'))).test(subject));
    // Attributes printed before the common name do not hide it.
    assert.ok(full(commonNameRegex(is('alice@example.com'))).test('emailAddress=a@b,OU=x+CN=alice@example.com,O=y'));
    assert.ok(full(commonNameRegex(is('alice@example.com'))).test('C=US,CN=alice@example.com'));
    // Domains compare without regard to case, the attribute type does not: "CN" is never skipped as another type.
    assert.ok(!full(commonNameDomainRegex(is('example.com'))).test(subject));
    assert.ok(full(commonNameDomainRegex(is('evil.com'))).test('CN=mallory@EVIL.com,CN=alice@example.com'));
  });
});

describe('buildRbacPolicies', () => {
  it('one named RBAC policy per clause; no deny rules, no deny filter config', () => {
    const policy: RoutePolicy = { allow: [clause('or', email(is('a@x'))), clause('and', method(is('GET')))], deny: [] };
    const out = buildRbacPolicies(policy, true);
    assert.equal(out.deny, undefined);
    assert.equal(out.allow['action'], 'ALLOW');
    assert.deepEqual(Object.keys(out.allow['policies'] as object), ['allow-rule-1', 'allow-rule-2']);
  });

  it('not = none holds (¬A ∧ ¬B), nor = one does not hold (¬A ∨ ¬B), as Pomerium defines them', () => {
    const a = method(is('GET'));
    const b = method(is('PUT'));
    const policy: RoutePolicy = {
      allow: [clause('not', a, b), clause('nor', a, b)],
      deny: [clause('or', { kind: 'reject', at })],
    };
    const out = buildRbacPolicies(policy, true);
    const principal = (name: string) =>
      (out.allow['policies'] as Record<string, { principals: unknown[] }>)[name]!.principals[0];
    const get = { header: { name: ':method', string_match: { exact: 'GET' } } };
    const put = { header: { name: ':method', string_match: { exact: 'PUT' } } };
    assert.deepEqual(principal('allow-rule-1'), { and_ids: { ids: [{ not_id: get }, { not_id: put }] } });
    assert.deepEqual(principal('allow-rule-2'), { or_ids: { ids: [{ not_id: get }, { not_id: put }] } });
    assert.deepEqual(out.deny?.['action'], 'DENY');
  });

  it('SAN matchers test each SAN on its own (mtls_authenticated), on a certificate valid for the route', () => {
    const san = (kind: 'dns' | 'email' | 'uri', m: StringMatcher): RoutePolicy => ({
      allow: [clause('or', { kind: 'client_certificate', conditions: [{ kind: 'san', san: kind, match: [m] }], at })],
      deny: [],
    });
    const principal = (p: RoutePolicy) =>
      (buildRbacPolicies(p, true).allow['policies'] as Record<string, { principals: unknown[] }>)['allow-rule-1']!
        .principals[0];
    const some = (san_type: string, matcher: unknown) => ({
      custom: {
        name: 'envoy.rbac.principals.mtls_authenticated',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.rbac.principals.mtls_authenticated.v3.Config',
          san_matcher: { san_type, matcher },
        },
      },
    });
    const valid = { header: { name: 'x-mtls-edge-peer-fingerprint', present_match: true } };
    assert.deepEqual(principal(san('uri', is('spiffe://x/a,b'))), {
      and_ids: { ids: [valid, some('URI', { exact: 'spiffe://x/a,b' })] },
    });
    assert.deepEqual(principal(san('email', { op: 'in', values: ['a@x', 'b@x'] })), {
      and_ids: {
        ids: [valid, { or_ids: { ids: [some('EMAIL', { exact: 'a@x' }), some('EMAIL', { exact: 'b@x' })] } }],
      },
    });
    // Never `exact` for DNS: Envoy would compare it with wildcard rules (*.x.example would match a.x.example).
    const dns = principal(san('dns', is('a.x.example'))) as { and_ids: { ids: Array<ReturnType<typeof some>> } };
    const regex = (dns.and_ids.ids[1]!.custom.typed_config.san_matcher.matcher as { safe_regex: { regex: string } })
      .safe_regex.regex;
    assert.ok(full(regex).test('A.X.Example'));
    for (const no of ['*.x.example', 'b.a.x.example', 'a.x.example,b', 'a.x.\u0435xample'])
      assert.ok(!full(regex).test(no), no);
  });

  it('invalid_client_certificate never holds on a route without a client CA (as in Pomerium)', () => {
    const policy: RoutePolicy = { allow: [clause('or', { kind: 'invalid_client_certificate', at })], deny: [] };
    const principals = (ca: boolean) =>
      (buildRbacPolicies(policy, ca).allow['policies'] as Record<string, { principals: unknown[] }>)['allow-rule-1']!
        .principals;
    assert.deepEqual(principals(false), [{ not_id: { any: true } }]);
    assert.deepEqual(principals(true), [
      { not_id: { header: { name: 'x-mtls-edge-peer-fingerprint', present_match: true } } },
    ]);
  });
});
