// Pomerium Policy Language on routes: client_certificate matchers, allow_any_authenticated_user,
// pass_identity_headers and routes without a client CA.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { base64, yaml } from './fixture.js';
import {
  pems,
  loadTestPems,
  fingerprint,
  at,
  HEAD,
  NO_CA_HEAD,
  withPolicy,
  routeOf,
  policyOf,
  shape,
} from './policy-fixture.js';
import { plainLocations } from '../../support/plain-locations.js';

before(loadTestPems);

describe('the policy of a route', () => {
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
    assert.deepEqual(plainLocations(route.policy!.allow[0]), {
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
