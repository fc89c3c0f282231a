// The jwt_claims_headers option (and JWT_CLAIMS_HEADERS): which claims go to the upstream in which headers.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, expectOk, run } from './fixture.js';
import { loadTestPems, files, errorsOf, BASE } from './policy-fixture.js';

before(loadTestPems);

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

  test(
    "headers of mtls-edge's own (x-mtls-edge-*) and Envoy's " + 'x-forwarded-client-cert are refused, each at its key',
    () => {
      const errors = errorsOf(
        `jwt_claims_headers:\n  X-Email: email\n  X-Mtls-Edge-Peer-Email: email\n ` +
          ` x-mtls-edge-anything: user\n  X-Forwarded-Client-Cert: subject\n${BASE}`,
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
      // The list form names its headers X-Pomerium-Claim-*: never reserved. From the environment, the variable is the
      // place.
      assertError(errorsOf(BASE, { JWT_CLAIMS_HEADERS: '{"x-mtls-edge-peer-subject": "subject"}' }), {
        file: 'environment variable JWT_CLAIMS_HEADERS',
        key: 'jwt_claims_headers.x-mtls-edge-peer-subject',
        line: 1,
        message:
          /^cannot use x-mtls-edge-peer-subject as a claim header: headers starting with x-mtls-edge- are internal/,
      });
    },
  );

  test('unknown claims, invalid or reserved header names, duplicates, wrong types', () => {
    const errors = errorsOf(
      `jwt_claims_headers:\n  X-Groups: groups\n  "Bad Header": email\n  Host: user\n  ` +
        `X-Pomerium-Jwt-Assertion: sub\n  X-A: email\n  x-a: user\n  X-B: [email]\n${BASE}`,
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
