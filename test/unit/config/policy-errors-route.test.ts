// Policy errors at the route: unsupported criteria, access options, missing client CA, errors reported at once.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, expectErrors, run, yaml } from './fixture.js';
import { loadTestPems, files, HEAD, NO_CA_HEAD, withPolicy, routeOf, errorsOf, only } from './policy-fixture.js';

before(loadTestPems);

describe('policy errors', () => {
  test('criteria that need something else mtls-edge lacks, and unknown ones, list the supported criteria', () => {
    const supported =
      /supported criteria: accept, reject, authenticated_user, invalid_client_certificate, email, domain, user, http_method, http_path, client_certificate, groups, claim\/NAME$/;
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
        message: new RegExp(`^"${name}" cannot be used with mtls-edge: `),
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
      message: /no identity provider is configured/,
    });
  });
});
