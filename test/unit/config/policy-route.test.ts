// Pomerium Policy Language on routes: rules, operators, criteria and string matchers as parsed.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { yaml } from './fixture.js';
import { loadTestPems, at, routeOf, policyOf, shape } from './policy-fixture.js';
import { plainLocations } from '../../support/plain-locations.js';

before(loadTestPems);

describe('the policy of a route', () => {
  test("the guide's route: allow or domain is example.com, with every location", () => {
    const route = routeOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_file: ca.pem
      routes:
        - from: https://verify.example.com
          to: http://127.0.0.1:8080
          policy:
            allow:
              or:
                - domain:
                    is: example.com
    `);
    assert.equal(route.access, 'policy');
    assert.equal(route.passIdentityHeaders, false);
    assert.deepEqual(plainLocations(route.policy), {
      allow: [
        {
          operator: 'or',
          criteria: [
            {
              kind: 'domain',
              match: [{ op: 'is', value: 'example.com' }],
              at: at(10, 'routes[0].policy.allow.or[0].domain'),
            },
          ],
          at: at(9, 'routes[0].policy.allow.or'),
        },
      ],
      deny: [],
    });
  });

  test('a list of rules: every operator of every rule is one clause, in order, allow and deny apart', () => {
    const policy = policyOf(yaml`
      - allow:
          or:
            - email: alice@example.com
        deny:
          or:
            - email: mallory@example.com
      - allow:
          and:
            - domain: example.com
            - http_method: GET
    `);
    assert.deepEqual(shape(policy.allow), [
      { or: [{ kind: 'email', match: [{ op: 'is', value: 'alice@example.com' }] }] },
      {
        and: [
          { kind: 'domain', match: [{ op: 'is', value: 'example.com' }] },
          { kind: 'http_method', match: [{ op: 'is', value: 'GET' }] },
        ],
      },
    ]);
    assert.deepEqual(shape(policy.deny), [
      { or: [{ kind: 'email', match: [{ op: 'is', value: 'mallory@example.com' }] }] },
    ]);
    assert.deepEqual(plainLocations(policy.allow[1]!.at), at(15, 'routes[0].policy[1].allow.and'));
    assert.deepEqual(plainLocations(policy.deny[0]!.criteria[0]!.at), at(13, 'routes[0].policy[0].deny.or[0].email'));
  });

  test('a single rule and a one-item list mean the same', () => {
    const single = policyOf('allow:\n  or:\n    - accept: true\n');
    const list = policyOf('- allow:\n    or:\n      - accept: true\n');
    assert.deepEqual(shape(single.allow), shape(list.allow));
    assert.deepEqual(plainLocations(single.allow[0]!.criteria[0]!.at), at(10, 'routes[0].policy.allow.or[0].accept'));
    assert.deepEqual(plainLocations(list.allow[0]!.criteria[0]!.at), at(10, 'routes[0].policy[0].allow.or[0].accept'));
  });

  test('every operator, in the order written', () => {
    const policy = policyOf(yaml`
      allow:
        nor:
          - http_path: /admin
        and:
          - authenticated_user: true
        not:
          - http_method: DELETE
        or:
          - accept: true
    `);
    assert.deepEqual(
      policy.allow.map((c) => [c.operator, c.at.line, c.at.key]),
      [
        ['nor', 9, 'routes[0].policy.allow.nor'],
        ['and', 11, 'routes[0].policy.allow.and'],
        ['not', 13, 'routes[0].policy.allow.not'],
        ['or', 15, 'routes[0].policy.allow.or'],
      ],
    );
  });

  test('every criterion', () => {
    const policy = policyOf(yaml`
      allow:
        or:
          - accept: true
          - reject: true
          - authenticated_user: true
          - invalid_client_certificate: true
          - email: alice@example.com
          - domain: example.com
          - user: alice
          - http_method: get
          - http_path: /api
          - client_certificate:
              fingerprint: ${'ab'.repeat(32)}
    `);
    assert.deepEqual(shape(policy.allow), [
      {
        or: [
          { kind: 'accept' },
          { kind: 'reject' },
          { kind: 'authenticated_user' },
          { kind: 'invalid_client_certificate' },
          { kind: 'email', match: [{ op: 'is', value: 'alice@example.com' }] },
          { kind: 'domain', match: [{ op: 'is', value: 'example.com' }] },
          { kind: 'user', match: [{ op: 'is', value: 'alice' }] },
          { kind: 'http_method', match: [{ op: 'is', value: 'GET' }] },
          { kind: 'http_path', match: [{ op: 'is', value: '/api' }] },
          { kind: 'client_certificate', conditions: [{ kind: 'fingerprint', values: ['ab'.repeat(32)] }] },
        ],
      },
    ]);
  });

  test('string matchers: bare string, every operator, several at once (all must match)', () => {
    const policy = policyOf(yaml`
      allow:
        or:
          - email: alice@example.com
          - email:
              is: bob@example.com
          - email:
              starts_with: admin-
          - email:
              ends_with: "@example.com"
          - email:
              contains: ops
          - email:
              not: mallory@example.com
          - email:
              in: [carol@example.com, dave@example.com]
          - user:
              starts_with: svc-
              ends_with: -prod
              not: svc-old-prod
    `);
    assert.deepEqual(
      policy.allow[0]!.criteria.map((c) => ('match' in c ? c.match : undefined)),
      [
        [{ op: 'is', value: 'alice@example.com' }],
        [{ op: 'is', value: 'bob@example.com' }],
        [{ op: 'starts_with', value: 'admin-' }],
        [{ op: 'ends_with', value: '@example.com' }],
        [{ op: 'contains', value: 'ops' }],
        [{ op: 'not', value: 'mallory@example.com' }],
        [{ op: 'in', values: ['carol@example.com', 'dave@example.com'] }],
        [
          { op: 'starts_with', value: 'svc-' },
          { op: 'ends_with', value: '-prod' },
          { op: 'not', value: 'svc-old-prod' },
        ],
      ],
    );
  });

  test('http_method values are upper-cased; http_path keeps its case', () => {
    const policy = policyOf(yaml`
      allow:
        and:
          - http_method:
              in: [get, Head, OPTIONS]
          - http_method:
              not: delete
          - http_path:
              starts_with: /API/
              contains: Items
    `);
    assert.deepEqual(shape(policy.allow), [
      {
        and: [
          { kind: 'http_method', match: [{ op: 'in', values: ['GET', 'HEAD', 'OPTIONS'] }] },
          { kind: 'http_method', match: [{ op: 'not', value: 'DELETE' }] },
          {
            kind: 'http_path',
            match: [
              { op: 'starts_with', value: '/API/' },
              { op: 'contains', value: 'Items' },
            ],
          },
        ],
      },
    ]);
  });
});
