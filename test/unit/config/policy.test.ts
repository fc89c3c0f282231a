// Pomerium Policy Language on routes, pass_identity_headers, and the signing_key / jwt_claims_headers options.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import {
  formatError,
  type ConfigError,
  type PolicyClause,
  type RouteConfig,
  type RoutePolicy,
} from '../../../control-plane/src/config/index.js';
import {
  CONFIG_FILE,
  MemoryFiles,
  assertError,
  base64,
  expectErrors,
  expectOk,
  loadPems,
  run,
  standardFiles,
  yaml,
  type Pems,
} from './fixture.js';

let pems: Pems;
const files = () => new MemoryFiles(standardFiles(pems));
const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const at = (line: number | undefined, key: string) => ({ file: CONFIG_FILE, line, key });

before(async () => {
  pems = await loadPems();
});

/** Six lines; the route's `policy:` is line 7 and the policy itself starts on line 8. */
const HEAD = yaml`
  certificate_file: server.pem
  certificate_key_file: server-key.pem
  client_ca_file: ca.pem
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:8080
`;
const NO_CA_HEAD = HEAD.replace('client_ca_file: ca.pem\n', '');

const indent = (text: string, spaces: number) => text.replace(/^(?=.)/gm, ' '.repeat(spaces));

/** A config whose one route has `policy` (line 8 on) and then `extra` route keys. */
function withPolicy(policy: string, extra = '', head = HEAD): string {
  return head + '    policy:\n' + indent(policy, 6) + indent(extra, 4);
}

function routeOf(text: string): RouteConfig {
  const config = expectOk(run(text, { files: files() }));
  assert.equal(config.routes.length, 1);
  return config.routes[0]!;
}

const policyOf = (policy: string, extra = ''): RoutePolicy => routeOf(withPolicy(policy, extra)).policy!;
const errorsOf = (text: string, env: Record<string, string> = {}) => expectErrors(run(text, { files: files(), env }));

/** Keeps only what a policy means (operators, criteria, matchers), without locations. */
function shape(clauses: PolicyClause[]): unknown {
  return clauses.map((c) => ({ [c.operator]: c.criteria.map(({ at: _at, ...rest }) => rest) }));
}

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
    assert.deepEqual(route.policy, {
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
    assert.deepEqual(policy.allow[1]!.at, at(15, 'routes[0].policy[1].allow.and'));
    assert.deepEqual(policy.deny[0]!.criteria[0]!.at, at(13, 'routes[0].policy[0].deny.or[0].email'));
  });

  test('a single rule and a one-item list mean the same', () => {
    const single = policyOf('allow:\n  or:\n    - accept: true\n');
    const list = policyOf('- allow:\n    or:\n      - accept: true\n');
    assert.deepEqual(shape(single.allow), shape(list.allow));
    assert.deepEqual(single.allow[0]!.criteria[0]!.at, at(10, 'routes[0].policy.allow.or[0].accept'));
    assert.deepEqual(list.allow[0]!.criteria[0]!.at, at(10, 'routes[0].policy[0].allow.or[0].accept'));
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

  test('client_certificate: fingerprints (short and long form), SPKI hashes, SAN matchers, all kept in order', () => {
    const short = 'a'.repeat(64);
    const bytes = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const long = [...Buffer.concat([bytes, bytes])].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
    const spki = Buffer.alloc(32, 7).toString('base64');
    const policy = policyOf(yaml`
      allow:
        or:
          - client_certificate:
              fingerprint: [${short}, "${long}"]
              spki_hash: ${spki}
              san_dns:
                ends_with: .devices.example.com
              san_email: alice@example.com
              san_uri:
                starts_with: spiffe://example.com/
              san_user_principal_name:
                in: [alice@corp, bob@corp]
          - client_certificate:
              fingerprint: "${long}"
    `);
    assert.deepEqual(shape(policy.allow), [
      {
        or: [
          {
            kind: 'client_certificate',
            conditions: [
              { kind: 'fingerprint', values: [short, '0123456789abcdef0123456789abcdef'.repeat(2)] },
              { kind: 'spki_hash', values: [spki] },
              { kind: 'san', san: 'dns', match: [{ op: 'ends_with', value: '.devices.example.com' }] },
              { kind: 'san', san: 'email', match: [{ op: 'is', value: 'alice@example.com' }] },
              { kind: 'san', san: 'uri', match: [{ op: 'starts_with', value: 'spiffe://example.com/' }] },
              { kind: 'san', san: 'user_principal_name', match: [{ op: 'in', values: ['alice@corp', 'bob@corp'] }] },
            ],
          },
          {
            kind: 'client_certificate',
            conditions: [{ kind: 'fingerprint', values: ['0123456789abcdef0123456789abcdef'.repeat(2)] }],
          },
        ],
      },
    ]);
  });

  test('client_certificate: certificate (PEM, or base64 of it) becomes the fingerprint of its DER', () => {
    const pemBlock = pems.clientCert
      .trim()
      .split('\n')
      .map((l) => ' '.repeat(14) + l)
      .join('\n');
    const policy = policyOf(
      'allow:\n  or:\n    - client_certificate:\n        certificate: |\n' +
        pemBlock +
        '\n    - client_certificate:\n        certificate: ' +
        base64(pems.clientCert) +
        '\n',
    );
    const expected = {
      kind: 'client_certificate',
      conditions: [{ kind: 'fingerprint', values: [fingerprint(pems.clientCert)] }],
    };
    assert.deepEqual(shape(policy.allow), [{ or: [expected, expected] }]);
  });

  test('allow_any_authenticated_user with a policy: an allow clause of its own, first, located at the option', () => {
    const route = routeOf(
      withPolicy(
        yaml`
          allow:
            or:
              - email: alice@example.com
          deny:
            or:
              - http_path: /admin
        `,
        'allow_any_authenticated_user: true\n',
      ),
    );
    assert.equal(route.access, 'any_authenticated_user');
    const anyUserAt = at(14, 'routes[0].allow_any_authenticated_user');
    assert.deepEqual(route.policy!.allow[0], {
      operator: 'or',
      criteria: [{ kind: 'authenticated_user', at: anyUserAt }],
      at: anyUserAt,
    });
    assert.deepEqual(shape(route.policy!.allow.slice(1)), [
      { or: [{ kind: 'email', match: [{ op: 'is', value: 'alice@example.com' }] }] },
    ]);
    assert.deepEqual(shape(route.policy!.deny), [
      { or: [{ kind: 'http_path', match: [{ op: 'is', value: '/admin' }] }] },
    ]);
    // Deny rules only are fine here: the option is the allow.
    const denyOnly = routeOf(
      withPolicy('deny:\n  or:\n    - http_path: /admin\n', 'allow_any_authenticated_user: true\n'),
    );
    assert.deepEqual(
      denyOnly.policy!.allow.map((c) => c.criteria.map((k) => k.kind)),
      [['authenticated_user']],
    );
  });

  test('without a policy allow_any_authenticated_user has none; false with a policy is access "policy"', () => {
    const plain = routeOf(HEAD + '    allow_any_authenticated_user: true\n');
    assert.equal(plain.access, 'any_authenticated_user');
    assert.equal(plain.policy, undefined);
    const off = routeOf(
      withPolicy('allow:\n  or:\n    - email: a@example.com\n', 'allow_any_authenticated_user: false\n'),
    );
    assert.equal(off.access, 'policy');
    assert.equal(off.policy!.allow.length, 1);
  });

  test('pass_identity_headers: true is kept; false and absent are false', () => {
    const policy = 'allow:\n  or:\n    - authenticated_user: true\n';
    assert.equal(routeOf(withPolicy(policy, 'pass_identity_headers: true\n')).passIdentityHeaders, true);
    assert.equal(routeOf(withPolicy(policy, 'pass_identity_headers: false\n')).passIdentityHeaders, false);
    assert.equal(routeOf(withPolicy(policy)).passIdentityHeaders, false);
    assert.equal(
      routeOf(HEAD + '    allow_any_authenticated_user: true\n    pass_identity_headers: true\n').passIdentityHeaders,
      true,
    );
  });

  test('without any client CA: request criteria are fine; a route CA is enough for identity criteria', () => {
    const requestOnly = routeOf(
      withPolicy('allow:\n  and:\n    - http_method: GET\n    - http_path: /public\n', '', NO_CA_HEAD),
    );
    assert.equal(requestOnly.access, 'policy');
    const routeCa = routeOf(
      withPolicy(
        'allow:\n  or:\n    - email: alice@example.com\n',
        'tls_downstream_client_ca_file: ca.pem\npass_identity_headers: true\n',
        NO_CA_HEAD,
      ),
    );
    assert.equal(routeCa.access, 'policy');
    assert.equal(routeCa.passIdentityHeaders, true);
    // downstream_mtls.ca_file is a client CA too.
    const modern = routeOf(
      withPolicy(
        'allow:\n  or:\n    - email: alice@example.com\n',
        '',
        NO_CA_HEAD.replace('routes:', 'downstream_mtls:\n  ca_file: ca.pem\nroutes:'),
      ),
    );
    assert.equal(modern.access, 'policy');
  });
});

describe('policy errors', () => {
  const only = (errors: ConfigError[], expected: { key: string; line: number; message: RegExp }) => {
    assertError(errors, expected);
    assert.equal(errors.length, 1, errors.map(formatError).join('\n'));
  };

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
          `^must be true: Pomerium ignores this value, so "${name}: false" would still mean ${name}; to negate it, put "${name}: true" under not$`,
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

  test('domain and san_dns values are host names as certificates carry them: lower case, A-labels', () => {
    const dnsOf = (matcher: string) =>
      shape(policyOf(`allow:\n  or:\n    - client_certificate:\n        san_dns: ${matcher}\n`).allow);
    const domainOf = (matcher: string) => shape(policyOf(`allow:\n  or:\n    - domain: ${matcher}\n`).allow);
    const dns = (...match: unknown[]) => [
      { or: [{ kind: 'client_certificate', conditions: [{ kind: 'san', san: 'dns', match }] }] },
    ];
    const domain = (...match: unknown[]) => [{ or: [{ kind: 'domain', match }] }];
    assert.deepEqual(dnsOf('Victim.EX'), dns({ op: 'is', value: 'victim.ex' }));
    assert.deepEqual(dnsOf('bücher.example'), dns({ op: 'is', value: 'xn--bcher-kva.example' }));
    assert.deepEqual(
      dnsOf('BÜCHER.example.'),
      dns({ op: 'is', value: 'xn--bcher-kva.example' }),
      'upper case and the final dot of a FQDN',
    );
    assert.deepEqual(
      dnsOf('{in: [a.example, Straße.example]}'),
      dns({ op: 'in', values: ['a.example', 'xn--strae-oqa.example'] }),
    );
    assert.deepEqual(dnsOf('{ends_with: .Bücher.example}'), dns({ op: 'ends_with', value: '.xn--bcher-kva.example' }));
    assert.deepEqual(dnsOf('{starts_with: "Host-"}'), dns({ op: 'starts_with', value: 'host-' }));
    assert.deepEqual(dnsOf('{contains: "-7.corp."}'), dns({ op: 'contains', value: '-7.corp.' }));
    assert.deepEqual(domainOf('{not: XN--BCHER-KVA.example}'), domain({ op: 'not', value: 'xn--bcher-kva.example' }));
    assert.deepEqual(domainOf('bücher.example'), domain({ op: 'is', value: 'xn--bcher-kva.example' }));
  });

  test('a domain or san_dns value no host name can match is an error, with its line', () => {
    const dnsKey = 'routes[0].policy.allow.or[0].client_certificate.san_dns';
    const cases: Array<[string, string, RegExp]> = [
      ['"evil.ex,victim.ex"', '', /^in "evil\.ex,victim\.ex", "ex,victim" is not a DNS label/],
      ['"*.example.com"', '', /^in "\*\.example\.com", "\*" is not a DNS label/],
      ['"a..b"', '', /^in "a\.\.b", "" is not a DNS label/],
      ['"-a.example"', '', /"-a" is not a DNS label/],
      ['"xn--zz.example"', '', /"xn--zz" is not a valid A-label/],
      ['"ｅｘａｍｐｌｅ.com"', '', /"ｅｘａｍｐｌｅ" is not in IDNA normal form \(it maps to "example"\)/],
      ['"e\u0301.example"', '', /is not in IDNA normal form/],
      ['"victim\u3002ex"', '', /is not in IDNA normal form/],
      ['{contains: "ürg"}', '.contains', /^"ürg" is part of an internationalised label/],
      ['{ends_with: "bücher.example"}', '.ends_with', /is part of an internationalised label: write whole labels/],
      ['{starts_with: "a_b"}', '.starts_with', /^"a_b" can never be part of a host name/],
      ['{in: [a.example, "b .example"]}', '.in[1]', /"b " is not a DNS label/],
    ];
    for (const [matcher, suffix, message] of cases) {
      only(errorsOf(withPolicy(`allow:\n  or:\n    - client_certificate:\n        san_dns: ${matcher}\n`)), {
        key: `${dnsKey}${suffix}`,
        line: 11,
        message,
      });
    }
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain: "exa mple.com"\n')), {
      key: 'routes[0].policy.allow.or[0].domain',
      line: 10,
      message:
        /^in "exa mple\.com", "exa mple" is not a DNS label .*\(host names are compared in lower case, internationalised labels as A-labels\)$/,
    });
  });

  test('a domain value with "@" is an email address: an error under every operator', () => {
    const key = 'routes[0].policy.allow.or[0].domain';
    const message =
      /^domain takes a domain \(such as example\.com\), not an email address like "alice@example\.com": use email$/;
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain: alice@example.com\n')), { key, line: 10, message });
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain:\n        not: Alice@Example.com\n')), {
      key: `${key}.not`,
      line: 11,
      message: /not an email address like "Alice@Example\.com": use email$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain:\n        ends_with: "@example.com"\n')), {
      key: `${key}.ends_with`,
      line: 11,
      message: /not an email address like "@example\.com": use email$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain:\n        in: [example.com, bob@example.org]\n')), {
      key: `${key}.in[1]`,
      line: 11,
      message: /like "bob@example\.org": use email$/,
    });
    // email itself takes addresses, and a domain without "@" stays a domain.
    assert.deepEqual(
      shape(policyOf('allow:\n  or:\n    - email: alice@example.com\n    - domain: {ends_with: .Example.com}\n').allow),
      [
        {
          or: [
            { kind: 'email', match: [{ op: 'is', value: 'alice@example.com' }] },
            { kind: 'domain', match: [{ op: 'ends_with', value: '.example.com' }] },
          ],
        },
      ],
    );
  });

  test('client_certificate: empty, unknown key, not a mapping', () => {
    const key = 'routes[0].policy.allow.or[0].client_certificate';
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate: {}\n')), {
      key,
      line: 10,
      message: /^empty certificate matcher: give at least one of fingerprint, spki_hash, certificate, san_dns/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        san_ip_address: 10.0.0.1\n')), {
      key: `${key}.san_ip_address`,
      line: 11,
      message: /^unknown key/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        fingerprnt: abc\n')), {
      key: `${key}.fingerprnt`,
      line: 11,
      message: /^unknown key \(did you mean "fingerprint"\?\)$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate: abc\n')), {
      key,
      line: 10,
      message: /^expected a certificate matcher/,
    });
  });

  test('client_certificate: fingerprints and SPKI hashes that are not, each named', () => {
    const key = 'routes[0].policy.allow.or[0].client_certificate';
    const upper = 'AB'.repeat(32);
    const lowerPairs = Array(32).fill('ab').join(':');
    const errors = errorsOf(
      withPolicy(
        `allow:\n  or:\n    - client_certificate:\n        fingerprint:\n          - ${'a'.repeat(64)}\n          - ${upper}\n          - "${lowerPairs}"\n          - abc\n`,
      ),
    );
    assert.deepEqual(
      errors.map((e) => [e.key, e.line]),
      [
        [`${key}.fingerprint[1]`, 13],
        [`${key}.fingerprint[2]`, 14],
        [`${key}.fingerprint[3]`, 15],
      ],
    );
    assert.match(
      errors[0]!.message,
      new RegExp(
        `^"${upper}" is not a SHA-256 fingerprint: expected 64 lower-case hex digits, or 32 upper-case hex pairs separated by colons`,
      ),
    );
    assert.match(errors[2]!.message, /^"abc" is not a SHA-256 fingerprint/);
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        fingerprint: []\n')), {
      key: `${key}.fingerprint`,
      line: 11,
      message: /^expected at least one entry$/,
    });

    const short = Buffer.alloc(16).toString('base64');
    only(errorsOf(withPolicy(`allow:\n  or:\n    - client_certificate:\n        spki_hash: ${short}\n`)), {
      key: `${key}.spki_hash`,
      line: 11,
      message: new RegExp(
        `^"${short.replace(/[+/]/g, '\\$&')}" is not an SPKI hash: expected the base64 of a 32-byte SHA-256`,
      ),
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        spki_hash: [not-base64!]\n')), {
      key: `${key}.spki_hash[0]`,
      line: 11,
      message: /is not an SPKI hash/,
    });
  });

  test('client_certificate: certificate that is not one valid PEM certificate', () => {
    const key = 'routes[0].policy.allow.or[0].client_certificate.certificate';
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        certificate: not a certificate\n')), {
      key,
      line: 11,
      message: /^no PEM certificate found/,
    });
    const two = (pems.clientCert.trim() + '\n' + pems.ca.trim())
      .split('\n')
      .map((l) => ' '.repeat(10) + l)
      .join('\n');
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        certificate: |\n' + two + '\n')), {
      key,
      line: 11,
      message: /^expected a single certificate, got 2/,
    });
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'
      .split('\n')
      .map((l) => ' '.repeat(10) + l)
      .join('\n');
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        certificate: |\n' + broken + '\n')), {
      key,
      line: 11,
      message: /^the certificate does not parse/,
    });
  });

  test('criteria that need an identity provider name the closest supported one', () => {
    const cases: Array<[string, RegExp]> = [
      [
        'groups: {has: admins}',
        /^"groups" needs an identity provider, which mtls-edge does not have \(identity comes from the client certificate\): .*email: \{in: \[\.\.\.\]\}.*client_certificate/,
      ],
      ['claim/groups: admins', /^"claim\/groups" needs an identity provider, .*use client_certificate/],
      ['claim/email: a@example.com', /^"claim\/email" needs an identity provider, .*use the "email" criterion/],
      ['claims/user: alice', /^"claims\/user" needs an identity provider, .*use the "user" criterion/],
      ['device: {is: d1}', /^"device" needs an identity provider, .*client_certificate \(fingerprint or spki_hash\)/],
      [
        'emails: [a@example.com]',
        /^"emails" needs an identity provider, .*use "email" \(with "in" for several values\)/,
      ],
      ['users: [alice]', /^"users" needs an identity provider, .*use "user" \(with "in"/],
      ['domains: [example.com]', /^"domains" needs an identity provider, .*use "domain" \(with "in"/],
      ['pomerium_routes: true', /^"pomerium_routes" needs an identity provider/],
    ];
    for (const [criterion, message] of cases) {
      const name = criterion.split(':')[0]!;
      only(errorsOf(withPolicy(`allow:\n  or:\n    - ${criterion}\n`)), {
        key: `routes[0].policy.allow.or[0].${name}`,
        line: 10,
        message,
      });
    }
  });

  test('criteria that need something else mtls-edge lacks, and unknown ones, list the supported criteria', () => {
    const supported =
      /supported criteria: accept, reject, authenticated_user, invalid_client_certificate, email, domain, user, http_method, http_path, client_certificate$/;
    for (const [criterion, reason] of [
      ['date: {after: "2024-01-01"}', /time-based rules are not supported/],
      ['day_of_week: mon-fri', /time-based rules are not supported/],
      ['time_of_day: {after: "09:00"}', /time-based rules are not supported/],
      ['record: {type: x}', /external data sources/],
      ['mcp_tool: {is: x}', /MCP routes/],
      ['ssh_username: root', /SSH routes/],
      ['cors_preflight: true', /http_method: OPTIONS/],
    ] as const) {
      const name = criterion.split(':')[0]!;
      const errors = errorsOf(withPolicy(`allow:\n  or:\n    - ${criterion}\n`));
      const e = assertError(errors, {
        key: `routes[0].policy.allow.or[0].${name}`,
        line: 10,
        message: new RegExp(`^"${name}" cannot be used with mtls-edge, which has no identity provider`),
      });
      assert.match(e.message, reason);
      assert.match(e.message, supported);
    }
    only(errorsOf(withPolicy('allow:\n  or:\n    - emial: a@example.com\n')), {
      key: 'routes[0].policy.allow.or[0].emial',
      line: 10,
      message: /^unknown criterion "emial"; supported criteria: accept, reject/,
    });
  });

  test('a supported criterion with a sub path', () => {
    only(errorsOf(withPolicy('allow:\n  or:\n    - email/work: a@example.com\n')), {
      key: 'routes[0].policy.allow.or[0].email/work',
      line: 10,
      message: /^email takes no sub path \(got "email\/work"\)/,
    });
  });

  test('allow_public_unauthenticated_access with a policy', () => {
    only(errorsOf(withPolicy('allow:\n  or:\n    - http_path: /\n', 'allow_public_unauthenticated_access: true\n')), {
      key: 'routes[0].allow_public_unauthenticated_access',
      line: 11,
      message:
        /^allow_public_unauthenticated_access skips every check, so the policy of this route would be ignored; remove one of them$/,
    });
    // false is no conflict.
    assert.equal(
      routeOf(withPolicy('allow:\n  or:\n    - http_path: /\n', 'allow_public_unauthenticated_access: false\n')).access,
      'policy',
    );
  });

  test('a policy with deny rules only says nobody may use the route', () => {
    only(errorsOf(withPolicy('deny:\n  or:\n    - http_path: /admin\n')), {
      key: 'routes[0].policy',
      line: 7,
      message: /^says nobody may use it: the policy has only deny rules/,
    });
  });

  test('a route with no access at all mentions policy as a third way', () => {
    only(errorsOf(HEAD), {
      key: 'routes[0]',
      line: 5,
      message:
        /^says nobody may use it: .*allow_any_authenticated_user: true .*allow_public_unauthenticated_access: true .*, or a policy saying who may/,
    });
  });

  test('identity criteria without any client CA: each is an error at its key', () => {
    const errors = errorsOf(
      withPolicy(
        yaml`
          allow:
            or:
              - email: a@example.com
              - http_path: /public
              - client_certificate:
                  fingerprint: ${'a'.repeat(64)}
          deny:
            or:
              - invalid_client_certificate: true
        `,
        'pass_identity_headers: true\n',
        NO_CA_HEAD,
      ),
    );
    const hint =
      /set client_ca \/ client_ca_file, or tls_downstream_client_ca \/ tls_downstream_client_ca_file on this route$/;
    assert.deepEqual(
      errors.map((e) => [e.key, e.line]).sort(),
      [
        ['routes[0].pass_identity_headers', 16],
        ['routes[0].policy.allow.or[0].email', 9],
        ['routes[0].policy.allow.or[2].client_certificate', 11],
        ['routes[0].policy.deny.or[0].invalid_client_certificate', 15],
      ].sort(),
    );
    for (const e of errors) assert.match(e.message, hint);
    assert.match(
      errors.find((e) => e.key.endsWith('.email'))!.message,
      /^email reads the client certificate, but this route asks for none \(it has no client CA\), so it could never match;/,
    );
    for (const kind of ['user: alice', 'domain: example.com', 'authenticated_user: true']) {
      const name = kind.split(':')[0]!;
      only(errorsOf(withPolicy(`allow:\n  or:\n    - ${kind}\n`, '', NO_CA_HEAD)), {
        key: `routes[0].policy.allow.or[0].${name}`,
        line: 9,
        message: new RegExp(`^${name} reads the client certificate`),
      });
    }
  });

  test('a client CA that is set but does not load: only its own error', () => {
    const text = withPolicy(
      'allow:\n  or:\n    - email: a@example.com\n',
      'pass_identity_headers: true\n',
      HEAD.replace('ca.pem', 'missing.pem'),
    );
    only(errorsOf(text), { key: 'client_ca_file', line: 3, message: /^cannot read file/ });
    const routeCa = withPolicy(
      'allow:\n  or:\n    - email: a@example.com\n',
      'tls_downstream_client_ca_file: garbage.pem\n',
      NO_CA_HEAD,
    );
    only(errorsOf(routeCa), {
      key: 'routes[0].tls_downstream_client_ca_file',
      line: 10,
      message: /no PEM certificate found/,
    });
  });

  test('every problem of a policy is reported at once', () => {
    const errors = errorsOf(
      withPolicy(yaml`
        - allow:
            or:
              - email: {}
              - groups: admins
            xor: []
        - deny:
            and:
              - http_path: nope
              - accept: false
      `),
    );
    assert.deepEqual(
      errors.map((e) => `${e.line} ${e.key}`),
      [
        '12 routes[0].policy[0].allow.xor',
        '10 routes[0].policy[0].allow.or[0].email',
        '11 routes[0].policy[0].allow.or[1].groups',
        '15 routes[0].policy[1].deny.and[0].http_path',
        '16 routes[0].policy[1].deny.and[1].accept',
      ],
    );
  });

  test('without a client CA, identity criteria are reported along with the other errors of the policy', () => {
    const errors = errorsOf(withPolicy('allow:\n  or:\n    - user: bob\n    - user: {}\n', '', NO_CA_HEAD));
    assert.deepEqual(errors.map((e) => `${e.line} ${e.key}`).sort(), [
      '10 routes[0].policy.allow.or[1].user',
      '9 routes[0].policy.allow.or[0].user',
    ]);
    assert.match(errors.find((e) => e.line === 9)!.message, /^user reads the client certificate/);
    assert.match(errors.find((e) => e.line === 10)!.message, /^empty matcher/);
  });

  test('policies in ROUTES from the environment are located in the variable', () => {
    const routes = yaml`
      - from: https://env.example.com
        to: http://127.0.0.1:9000
        policy:
          allow:
            or:
              - groups: admins
    `;
    const errors = expectErrors(
      run('certificate_file: server.pem\ncertificate_key_file: server-key.pem\nclient_ca_file: ca.pem\n', {
        files: files(),
        env: { ROUTES: routes },
      }),
    );
    assertError(errors, {
      file: 'environment variable ROUTES',
      key: 'routes[0].policy.allow.or[0].groups',
      line: 6,
      message: /needs an identity provider/,
    });
  });
});

const BASE = yaml`
  certificate_file: server.pem
  certificate_key_file: server-key.pem
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:8080
      allow_public_unauthenticated_access: true
`;

describe('signing_key', () => {
  const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sec1 = (key: ReturnType<typeof p256>['privateKey']) => key.export({ type: 'sec1', format: 'pem' }).toString();
  const samePublicKey = (pem: string, key: ReturnType<typeof p256>['privateKey']) =>
    assert.deepEqual(
      createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' }),
      createPublicKey(key).export({ format: 'jwk' }),
    );

  test('absent: undefined (the runner makes one)', () => {
    assert.equal(expectOk(run(BASE, { files: files() })).signingKey, undefined);
  });

  test("base64 of a PEM EC P-256 key (Pomerium's form), SEC1 or PKCS#8; kept as PKCS#8 PEM", () => {
    const { privateKey } = p256();
    const config = expectOk(run(`signing_key: ${base64(sec1(privateKey))}\n${BASE}`, { files: files() }));
    assert.match(config.signingKey!.pem, /^-----BEGIN PRIVATE KEY-----\n/);
    samePublicKey(config.signingKey!.pem, privateKey);
    assert.deepEqual(config.signingKey!.at, at(1, 'signing_key'));
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    samePublicKey(
      expectOk(run(`signing_key: ${base64(pkcs8)}\n${BASE}`, { files: files() })).signingKey!.pem,
      privateKey,
    );
  });

  test('the PEM itself is taken too', () => {
    const { privateKey } = p256();
    const block = sec1(privateKey)
      .trim()
      .split('\n')
      .map((l) => '  ' + l)
      .join('\n');
    samePublicKey(expectOk(run(`signing_key: |\n${block}\n${BASE}`, { files: files() })).signingKey!.pem, privateKey);
  });

  test('SIGNING_KEY from the environment', () => {
    const { privateKey } = p256();
    const config = expectOk(run(BASE, { files: files(), env: { SIGNING_KEY: base64(sec1(privateKey)) } }));
    samePublicKey(config.signingKey!.pem, privateKey);
    assert.deepEqual(config.signingKey!.at, { file: 'environment variable SIGNING_KEY', key: 'signing_key' });
  });

  test('other curves, RSA keys and garbage are refused, without printing the key', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
      .privateKey.export({ type: 'sec1', format: 'pem' })
      .toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[string, string, RegExp]> = [
      [
        base64(p384),
        p384,
        /^must be an EC P-256 \(prime256v1\) private key, as ES256 needs; got an EC key on curve secp384r1$/,
      ],
      [base64(rsa), rsa, /^must be an EC P-256 \(prime256v1\) private key, as ES256 needs; got an rsa key$/],
      [base64(ed), ed, /^must be an EC P-256 .*got a ed25519 key$/],
      [base64('hello'), 'hello', /^expected base64 of a PEM EC P-256 private key .*: no PEM private key found/],
      [base64(pems.serverCert), pems.serverCert, /^expected base64 of a PEM EC P-256 private key/],
    ];
    for (const [value, pem, message] of cases) {
      const errors = errorsOf(`signing_key: ${value}\n${BASE}`);
      const e = assertError(errors, { key: 'signing_key', line: 1, message });
      const body = pem.split('\n')[1] ?? pem;
      assert.ok(!e.message.includes(value) && !e.message.includes(body), e.message);
    }
    const broken = base64('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n');
    assertError(errorsOf(`signing_key: ${broken}\n${BASE}`), {
      key: 'signing_key',
      line: 1,
      message: /: private key does not parse/,
    });
    assertError(errorsOf(`signing_key: [a]\n${BASE}`), {
      key: 'signing_key',
      line: 1,
      message: /^expected a string, got a list$/,
    });
    assertError(errorsOf(BASE, { SIGNING_KEY: base64(rsa) }), {
      file: 'environment variable SIGNING_KEY',
      key: 'signing_key',
      line: undefined,
      message: /got an rsa key/,
    });
  });
});

describe('jwt_claims_headers', () => {
  test('absent: no claim headers', () => {
    assert.deepEqual(expectOk(run(BASE, { files: files() })).jwtClaimsHeaders, []);
  });

  test('a mapping of header name to claim, in file order, names as written', () => {
    const config = expectOk(
      run(`jwt_claims_headers:\n  X-Email: email\n  x-user: user\n  X-Cert-Fingerprint: fingerprint\n${BASE}`, {
        files: files(),
      }),
    );
    assert.deepEqual(config.jwtClaimsHeaders, [
      ['X-Email', 'email'],
      ['x-user', 'user'],
      ['X-Cert-Fingerprint', 'fingerprint'],
    ]);
  });

  test('a list of claims, or claims separated by commas: X-Pomerium-Claim-<Claim>', () => {
    const expected = [
      ['X-Pomerium-Claim-Email', 'email'],
      ['X-Pomerium-Claim-User', 'user'],
      ['X-Pomerium-Claim-San-User-Principal-Name', 'san_user_principal_name'],
      ['X-Pomerium-Claim-Spki-Hash', 'spki_hash'],
    ];
    const list = expectOk(
      run(`jwt_claims_headers: [email, user, san_user_principal_name, spki_hash]\n${BASE}`, { files: files() }),
    );
    assert.deepEqual(list.jwtClaimsHeaders, expected);
    const commas = expectOk(
      run(`jwt_claims_headers: "email, user,san_user_principal_name ,spki_hash"\n${BASE}`, { files: files() }),
    );
    assert.deepEqual(commas.jwtClaimsHeaders, expected);
    assert.deepEqual(expectOk(run(`jwt_claims_headers: []\n${BASE}`, { files: files() })).jwtClaimsHeaders, []);
  });

  test('JWT_CLAIMS_HEADERS: claims with commas, a single claim (never taken for base64), JSON or YAML', () => {
    const env = (value: string) =>
      expectOk(run(BASE, { files: files(), env: { JWT_CLAIMS_HEADERS: value } })).jwtClaimsHeaders;
    assert.deepEqual(env('email,user'), [
      ['X-Pomerium-Claim-Email', 'email'],
      ['X-Pomerium-Claim-User', 'user'],
    ]);
    // "user" is also valid base64: it must stay the claim.
    assert.deepEqual(env('user'), [['X-Pomerium-Claim-User', 'user']]);
    assert.deepEqual(env('{"X-Email": "email", "X-Sub": "sub"}'), [
      ['X-Email', 'email'],
      ['X-Sub', 'sub'],
    ]);
    assert.deepEqual(env('["iss", "aud"]'), [
      ['X-Pomerium-Claim-Iss', 'iss'],
      ['X-Pomerium-Claim-Aud', 'aud'],
    ]);
    // The variable replaces the file's value.
    const both = expectOk(
      run(`jwt_claims_headers: [email]\n${BASE}`, { files: files(), env: { JWT_CLAIMS_HEADERS: 'domain' } }),
    );
    assert.deepEqual(both.jwtClaimsHeaders, [['X-Pomerium-Claim-Domain', 'domain']]);
  });

  test('every supported claim', () => {
    const all = [
      'email',
      'user',
      'domain',
      'sub',
      'fingerprint',
      'spki_hash',
      'subject',
      'issuer',
      'common_name',
      'san_dns',
      'san_email',
      'san_uri',
      'san_ip_address',
      'san_user_principal_name',
      'iss',
      'aud',
    ];
    const config = expectOk(run(`jwt_claims_headers: [${all.join(', ')}]\n${BASE}`, { files: files() }));
    assert.deepEqual(
      config.jwtClaimsHeaders.map(([, claim]) => claim),
      all,
    );
    assert.equal(config.jwtClaimsHeaders.find(([, c]) => c === 'common_name')![0], 'X-Pomerium-Claim-Common-Name');
  });

  test("headers of mtls-edge's own (x-mtls-edge-*) and Envoy's x-forwarded-client-cert are refused, each at its key", () => {
    const errors = errorsOf(
      `jwt_claims_headers:\n  X-Email: email\n  X-Mtls-Edge-Peer-Email: email\n  x-mtls-edge-anything: user\n  X-Forwarded-Client-Cert: subject\n${BASE}`,
    );
    assert.deepEqual(
      errors.map((e) => `${e.line} ${e.key}`),
      [
        '3 jwt_claims_headers.X-Mtls-Edge-Peer-Email',
        '4 jwt_claims_headers.x-mtls-edge-anything',
        '5 jwt_claims_headers.X-Forwarded-Client-Cert',
      ],
    );
    const internal =
      /^cannot use (X-Mtls-Edge-Peer-Email|x-mtls-edge-anything) as a claim header: headers starting with x-mtls-edge- are internal to mtls-edge, and removed before the request reaches the upstream$/;
    assert.match(errors[0]!.message, internal);
    assert.match(errors[1]!.message, internal);
    assert.match(
      errors[2]!.message,
      /^cannot use X-Forwarded-Client-Cert as a claim header: Envoy sets \(or removes\) x-forwarded-client-cert itself; see forward_client_cert$/,
    );
    // A name that merely resembles them is fine.
    const near = expectOk(
      run(`jwt_claims_headers:\n  X-Mtls-Edge: email\n  X-Forwarded-Client-Certificate: subject\n${BASE}`, {
        files: files(),
      }),
    );
    assert.deepEqual(near.jwtClaimsHeaders, [
      ['X-Mtls-Edge', 'email'],
      ['X-Forwarded-Client-Certificate', 'subject'],
    ]);
    // The list form names its headers X-Pomerium-Claim-*: never reserved. From the environment, the variable is the place.
    assertError(errorsOf(BASE, { JWT_CLAIMS_HEADERS: '{"x-mtls-edge-peer-subject": "subject"}' }), {
      file: 'environment variable JWT_CLAIMS_HEADERS',
      key: 'jwt_claims_headers.x-mtls-edge-peer-subject',
      line: 1,
      message:
        /^cannot use x-mtls-edge-peer-subject as a claim header: headers starting with x-mtls-edge- are internal/,
    });
  });

  test('unknown claims, invalid or reserved header names, duplicates, wrong types', () => {
    const errors = errorsOf(
      `jwt_claims_headers:\n  X-Groups: groups\n  "Bad Header": email\n  Host: user\n  X-Pomerium-Jwt-Assertion: sub\n  X-A: email\n  x-a: user\n  X-B: [email]\n${BASE}`,
    );
    assert.deepEqual(
      errors.map((e) => `${e.line} ${e.key}`),
      [
        '8 jwt_claims_headers.X-B',
        '2 jwt_claims_headers.X-Groups',
        '3 jwt_claims_headers.Bad Header',
        '4 jwt_claims_headers.Host',
        '5 jwt_claims_headers.X-Pomerium-Jwt-Assertion',
        '7 jwt_claims_headers.x-a',
      ],
    );
    assert.match(
      errors[1]!.message,
      /^unknown claim "groups": the claims mtls-edge has \(from the client certificate\) are email, user, domain, sub, fingerprint, spki_hash, subject, issuer, common_name, san_dns, san_email, san_uri, san_ip_address, san_user_principal_name, iss, aud$/,
    );
    assert.match(errors[2]!.message, /^"Bad Header" is not a valid HTTP header name$/);
    assert.match(errors[3]!.message, /^cannot use Host as a claim header$/);
    assert.match(errors[4]!.message, /^cannot use X-Pomerium-Jwt-Assertion as a claim header$/);
    assert.match(errors[5]!.message, /^header x-a is given twice/);
    assert.match(errors[0]!.message, /^expected a string, got a list$/);

    assertError(errorsOf(`jwt_claims_headers: [email, email]\n${BASE}`), {
      key: 'jwt_claims_headers[1]',
      line: 1,
      message: /^header X-Pomerium-Claim-Email is given twice/,
    });
    assertError(errorsOf(`jwt_claims_headers: "email,,user"\n${BASE}`), {
      key: 'jwt_claims_headers',
      line: 1,
      message: /^expected claim names separated by commas/,
    });
    assertError(errorsOf(`jwt_claims_headers: true\n${BASE}`), {
      key: 'jwt_claims_headers',
      line: 1,
      message:
        /^expected a mapping of header name to claim, a list of claims, or claims separated by commas; got boolean true$/,
    });
    assertError(errorsOf(BASE, { JWT_CLAIMS_HEADERS: 'email,groups' }), {
      file: 'environment variable JWT_CLAIMS_HEADERS',
      key: 'jwt_claims_headers',
      line: 1,
      message: /^unknown claim "groups"/,
    });
  });
});
