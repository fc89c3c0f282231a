// Policy errors in the shape of a policy: rules, operators, criteria and string matchers.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTestPems, HEAD, withPolicy, policyOf, errorsOf, only } from './policy-fixture.js';

before(loadTestPems);

describe('policy errors', () => {
  test('a rule with a key other than allow and deny', () => {
    only(errorsOf(withPolicy('- allow:\n    or:\n      - accept: true\n  permit:\n    or:\n      - accept: true\n')), {
      key: 'routes[0].policy[0].permit',
      line: 11,
      message: /^unknown key/,
    });
    only(errorsOf(withPolicy('allo:\n  or:\n    - accept: true\n')), {
      key: 'routes[0].policy.allo',
      line: 8,
      message: /^unknown key \(did you mean "allow"\?\)/,
    });
  });

  test('an unknown logical operator', () => {
    only(errorsOf(withPolicy('allow:\n  xor:\n    - accept: true\n')), {
      key: 'routes[0].policy.allow.xor',
      line: 9,
      message: /^unknown key/,
    });
  });

  test('an action that is not a mapping of operators, or has none', () => {
    only(errorsOf(withPolicy('allow:\n  - email: a@example.com\n')), {
      key: 'routes[0].policy.allow',
      line: 8,
      message: /^expected a mapping of logical operators \(and, or, not, nor\)/,
    });
    only(errorsOf(withPolicy('allow: {}\n')), {
      key: 'routes[0].policy.allow',
      line: 8,
      message: /^allow needs at least one of and, or, not, nor$/,
    });
  });

  test('an operator that is not a list, or an empty one', () => {
    only(errorsOf(withPolicy('allow:\n  or:\n    email: a@example.com\n')), {
      key: 'routes[0].policy.allow.or',
      line: 9,
      message: /^expected a list of criteria/,
    });
    only(errorsOf(withPolicy('allow:\n  and: []\n')), {
      key: 'routes[0].policy.allow.and',
      line: 9,
      message: /^expected at least one criterion$/,
    });
  });

  test('an empty policy, in every form', () => {
    for (const policy of ['[]\n', '{}\n']) {
      const text = HEAD + '    policy: ' + policy;
      only(errorsOf(text), { key: 'routes[0].policy', line: 7, message: /^policy has no allow or deny rule/ });
    }
    only(errorsOf(withPolicy('- {}\n')), {
      key: 'routes[0].policy[0]',
      line: 8,
      message: /^empty rule: give it allow and\/or deny$/,
    });
    only(errorsOf(HEAD + '    policy: allow\n'), {
      key: 'routes[0].policy',
      line: 7,
      message: /^expected a rule \(a mapping with allow and\/or deny\) or a list of rules, got string "allow"$/,
    });
  });

  test('a criterion with no key, several keys, or that is not a mapping', () => {
    only(errorsOf(withPolicy('allow:\n  or:\n    - {}\n')), {
      key: 'routes[0].policy.allow.or[0]',
      line: 10,
      message: /^empty criterion/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email: a@example.com\n      domain: example.com\n')), {
      key: 'routes[0].policy.allow.or[0]',
      line: 10,
      message: /^a criterion has exactly one key, got 2 \(email, domain\): put each in its own list item$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - accept\n')), {
      key: 'routes[0].policy.allow.or[0]',
      line: 10,
      message: /^expected a criterion: a mapping with one key/,
    });
  });

  test('accept, reject, authenticated_user and invalid_client_certificate take only true', () => {
    for (const name of ['accept', 'reject', 'authenticated_user', 'invalid_client_certificate']) {
      const key = `routes[0].policy.allow.or[0].${name}`;
      only(errorsOf(withPolicy(`allow:\n  or:\n    - ${name}: false\n`)), {
        key,
        line: 10,
        message: new RegExp(
          `^must be true: Pomerium ignores this value, so "${name}: false" would ` +
            `still mean ${name}; to negate it, put "${name}: true" under not$`,
        ),
      });
      only(errorsOf(withPolicy(`allow:\n  or:\n    - ${name}: yes\n`)), {
        key,
        line: 10,
        message: /^expected true, got string "yes"$/,
      });
    }
  });

  test('string matchers: empty, unknown operator, wrong types', () => {
    const key = 'routes[0].policy.allow.or[0].email';
    only(errorsOf(withPolicy('allow:\n  or:\n    - email: {}\n')), {
      key,
      line: 10,
      message: /^empty matcher: give at least one of is, starts_with, ends_with, contains, not, in$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email:\n        equals: a@example.com\n')), {
      key: `${key}.equals`,
      line: 11,
      message: /^unknown key/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email:\n        in: a@example.com\n')), {
      key: `${key}.in`,
      line: 11,
      message: /^expected a list, got string/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email:\n        in: []\n')), {
      key: `${key}.in`,
      line: 11,
      message: /^expected at least one value$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email:\n        in: [a@example.com, [b]]\n')), {
      key: `${key}.in[1]`,
      line: 11,
      message: /^expected a string, got a list$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email:\n        is: {x: 1}\n')), {
      key: `${key}.is`,
      line: 11,
      message: /^expected a string, got a mapping$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email: [a@example.com]\n')), {
      key,
      line: 10,
      message: /^expected a string or a matcher \(a mapping of is, starts_with/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - email: true\n')), {
      key,
      line: 10,
      message: /^expected a string or a matcher/,
    });
  });

  test('http_path must start with "/" for is, starts_with and in; http_method must be a method', () => {
    const key = 'routes[0].policy.allow.or[0].http_path';
    only(errorsOf(withPolicy('allow:\n  or:\n    - http_path: api\n')), {
      key,
      line: 10,
      message: /^a path must start with "\/", got "api"$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - http_path:\n        starts_with: api/\n')), {
      key: `${key}.starts_with`,
      line: 11,
      message: /^a path must start with "\/", got "api\/"$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - http_path:\n        in: [/a, b]\n')), {
      key: `${key}.in[1]`,
      line: 11,
      message: /must start with "\/"/,
    });
    // ends_with and contains are parts of a path: no leading "/" needed.
    assert.equal(
      policyOf('allow:\n  or:\n    - http_path:\n        ends_with: .json\n        contains: v2\n').allow.length,
      1,
    );
    only(errorsOf(withPolicy('allow:\n  or:\n    - http_method: "GET POST"\n')), {
      key: 'routes[0].policy.allow.or[0].http_method',
      line: 10,
      message: /^"GET POST" is not an HTTP method$/,
    });
  });
});
