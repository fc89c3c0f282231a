// jwt_claims_headers with an identity provider: any claim of the ID token may be named (as in Pomerium), except the
// registered claims the edge sets in each assertion; and what the ext_authz service learns of a signed-in route.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { routeAuthorization } from '../../../control-plane/src/model/authorization.js';
import { assertError, expectOk, run } from './fixture.js';
import { BASE, errorsOf, files, loadTestPems } from './policy-fixture.js';

before(loadTestPems);

const IDP = [
  'idp_provider_url: https://idp.example.com',
  'idp_client_id: mtls-edge',
  'idp_client_secret: s3cret',
  `cookie_secret: ${Buffer.alloc(32, 7).toString('base64')}`,
  'idp_groups_claim: roles',
].join('\n');

describe('jwt_claims_headers with sign-in', () => {
  test("claims of the ID token get Pomerium's headers, beside the certificate's", () => {
    const config = expectOk(
      run(`${IDP}\njwt_claims_headers: [email, groups, given_name, fingerprint]\n${BASE}`, { files: files() }),
    );
    assert.deepEqual(config.jwtClaimsHeaders, [
      ['X-Pomerium-Claim-Email', 'email'],
      ['X-Pomerium-Claim-Groups', 'groups'],
      ['X-Pomerium-Claim-Given-Name', 'given_name'],
      ['X-Pomerium-Claim-Fingerprint', 'fingerprint'],
    ]);
    const mapped = expectOk(
      run(`${IDP}\njwt_claims_headers:\n  X-Roles: https://example.com/roles\n${BASE}`, { files: files() }),
    );
    assert.deepEqual(mapped.jwtClaimsHeaders, [['X-Roles', 'https://example.com/roles']]);
  });

  test('the claims the edge sets in each assertion cannot be named; iss and aud (the route) still can', () => {
    for (const claim of ['exp', 'iat', 'nbf', 'jti']) {
      assertError(errorsOf(`${IDP}\njwt_claims_headers: [iss, aud, ${claim}]\n${BASE}`), {
        key: 'jwt_claims_headers[2]',
        line: 6,
        message: new RegExp(`^"${claim}" is a claim the edge sets in each assertion itself`),
      });
    }
  });

  test('without an identity provider, only the certificate claims (unchanged)', () => {
    assertError(errorsOf(`jwt_claims_headers: [email, groups]\n${BASE}`), {
      key: 'jwt_claims_headers[1]',
      line: 1,
      message: /^unknown claim "groups": the claims mtls-edge has \(from the client certificate\)/,
    });
  });

  test("a signed-in route tells the service the groups claim; other routes' entries stay as they were", () => {
    const routes = [
      '  - from: https://a.example.com',
      '    to: http://127.0.0.1:8080',
      '    pass_identity_headers: true',
      '    allow_any_authenticated_user: true',
      '  - from: https://b.example.com',
      '    to: http://127.0.0.1:8080',
      '    pass_identity_headers: true',
      '    allow_public_unauthenticated_access: true',
    ].join('\n');
    const head = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\njwt_claims_headers: [groups]';
    const config = expectOk(run(`${IDP}\n${head}\nroutes:\n${routes}\n`, { files: files() }));
    const [signed, open] = config.routes.map((r) => routeAuthorization(r, config).extAuthz);
    assert.deepEqual(signed?.signIn, { groupsClaim: 'roles' });
    assert.deepEqual(signed?.claimsHeaders, [['X-Pomerium-Claim-Groups', 'groups']]);
    assert.equal(signed?.clientCaRequired, false);
    assert.ok(open);
    assert.equal(Object.hasOwn(open, 'signIn'), false);
  });
});
