// The OpenID Connect discovery document read into a typed value: idp_provider_url checked, the issuer compared as
// Discovery §4.3 says (one trailing '/' is no difference), every endpoint an absolute http(s) URL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  discoveryDocumentUrl,
  httpUrl,
  parseProviderDocument,
} from '../../../control-plane/src/config/oidc-provider-document.js';
import type { Result } from '../../../control-plane/src/source/diagnostics.js';

const at = { file: 'config.yaml', line: 3, key: 'idp_provider_url' };
const ISSUER = 'https://idp.example.com/realms/main';
const DOCUMENT_URL = `${ISSUER}/.well-known/openid-configuration`;

function document(overrides: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/protocol/openid-connect/auth`,
    token_endpoint: `${ISSUER}/protocol/openid-connect/token`,
    jwks_uri: `${ISSUER}/protocol/openid-connect/certs`,
    response_types_supported: ['code'],
  };
  return JSON.stringify({ ...base, ...overrides });
}

function parse(text: string, providerUrl = ISSUER) {
  return parseProviderDocument(text, providerUrl, DOCUMENT_URL, at);
}

/** The messages of a failed result, after checking each error is at idp_provider_url in config.yaml:3. */
function messages<T>(result: Result<T>): string[] {
  assert.equal(result.ok, false, 'expected errors');
  if (result.ok) return [];
  for (const e of result.errors) assert.deepEqual([e.file, e.line, e.key], ['config.yaml', 3, 'idp_provider_url']);
  return result.errors.map((e) => e.message);
}

describe('discoveryDocumentUrl', () => {
  test('appends the well-known path to the issuer, keeping its path and dropping one trailing slash', () => {
    assert.deepEqual(discoveryDocumentUrl(ISSUER, at), { ok: true, value: DOCUMENT_URL });
    assert.deepEqual(discoveryDocumentUrl(`${ISSUER}/`, at), { ok: true, value: DOCUMENT_URL });
    assert.deepEqual(discoveryDocumentUrl('http://127.0.0.1:5556', at), {
      ok: true,
      value: 'http://127.0.0.1:5556/.well-known/openid-configuration',
    });
  });

  const refused: Array<[string, RegExp]> = [
    ['ftp://idp.example.com', /expected an absolute http or https URL/],
    ['idp.example.com', /expected an absolute http or https URL/],
    ['/realms/main', /expected an absolute http or https URL/],
    ['', /expected an absolute http or https URL/],
    ['https://idp.example.com/?realm=main', /no query or fragment/],
    ['https://idp.example.com/#main', /no query or fragment/],
    ['https://user:secret@idp.example.com', /no user name or password/],
  ];
  for (const [url, message] of refused) {
    test(`refuses ${JSON.stringify(url)}, saying what an issuer URL is`, () => {
      const [m] = messages(discoveryDocumentUrl(url, at));
      assert.match(m!, message);
      assert.match(m!, /the issuer URL of the OpenID Connect provider/);
      assert.ok(m!.endsWith(`got ${JSON.stringify(url)}`), m);
    });
  }
});

describe('parseProviderDocument', () => {
  test('reads the endpoints; end_session_endpoint is absent when the document has none', () => {
    assert.deepEqual(parse(document()), {
      ok: true,
      value: {
        issuer: ISSUER,
        authorizationEndpoint: `${ISSUER}/protocol/openid-connect/auth`,
        tokenEndpoint: `${ISSUER}/protocol/openid-connect/token`,
        jwksUri: `${ISSUER}/protocol/openid-connect/certs`,
      },
    });
    const withLogout = parse(document({ end_session_endpoint: `${ISSUER}/logout` }));
    assert.equal(withLogout.ok && withLogout.value.endSessionEndpoint, `${ISSUER}/logout`);
    const nullLogout = parse(document({ end_session_endpoint: null }));
    assert.ok(nullLogout.ok && !('endSessionEndpoint' in nullLogout.value));
  });

  test('one trailing slash on either side is no difference; the issuer is kept as the document says', () => {
    const slashed = parse(document({ issuer: `${ISSUER}/` }));
    assert.equal(slashed.ok && slashed.value.issuer, `${ISSUER}/`);
    const configuredSlashed = parse(document(), `${ISSUER}/`);
    assert.equal(configuredSlashed.ok && configuredSlashed.value.issuer, ISSUER);
  });

  test('an issuer that differs otherwise is an error naming both', () => {
    for (const issuer of [`${ISSUER}//`, 'https://idp.example.com/realms/other', ISSUER.toUpperCase()]) {
      const [m] = messages(parse(document({ issuer })));
      assert.equal(
        m,
        `issuer ${JSON.stringify(issuer)} in the discovery document ${DOCUMENT_URL} is not idp_provider_url ` +
          `"${ISSUER}": set idp_provider_url to the issuer exactly as the provider names it (ID tokens carry it, ` +
          'and Envoy compares them with it)',
      );
    }
  });

  test('every missing or wrong field is reported at once, saying what it is needed for', () => {
    const found = messages(
      parse(
        document({
          issuer: undefined,
          authorization_endpoint: undefined,
          token_endpoint: 'ftp://idp.example.com/token',
          jwks_uri: 42,
          end_session_endpoint: '/logout',
        }),
      ),
    );
    assert.deepEqual(found, [
      `the discovery document ${DOCUMENT_URL} names no issuer (is it an OpenID Connect provider's?)`,
      `the discovery document ${DOCUMENT_URL} has no authorization_endpoint, needed to send people to sign in`,
      `token_endpoint "ftp://idp.example.com/token" in the discovery document ${DOCUMENT_URL} is not an ` +
        'absolute http or https URL (it is needed to exchange the sign-in code for tokens)',
      `jwks_uri 42 in the discovery document ${DOCUMENT_URL} is not an absolute http or https URL (it is ` +
        'needed to verify ID tokens)',
      `end_session_endpoint "/logout" in the discovery document ${DOCUMENT_URL} is not an absolute http or ` +
        'https URL (it is needed to sign people out)',
    ]);
  });

  test('a missing token_endpoint is an error', () => {
    assert.deepEqual(messages(parse(document({ token_endpoint: undefined }))), [
      `the discovery document ${DOCUMENT_URL} has no token_endpoint, needed to exchange the sign-in code for tokens`,
    ]);
  });

  test('text that is not JSON, or not an object, is an error that shows how the answer begins', () => {
    const [html] = messages(parse('<!DOCTYPE html>\n<html><body>Sign in</body></html>'));
    assert.match(html!, /^the discovery document \S+ is not JSON \(.+\); it begins "<!DOCTYPE html> <html>/);
    assert.match(messages(parse(''))[0]!, /is not JSON .*; the answer is empty$/);
    assert.match(messages(parse('["a"]'))[0]!, /is not a JSON object; it begins "\[\\"a\\"\]"$/);
    const long = messages(parse(`"${'x'.repeat(200)}"`))[0]!;
    assert.ok(long.endsWith('x..."'), long);
  });
});

describe('httpUrl', () => {
  test('takes absolute http and https URLs only', () => {
    assert.equal(httpUrl('http://127.0.0.1:8080/x')?.port, '8080');
    assert.equal(httpUrl('https://idp.example.com')?.hostname, 'idp.example.com');
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'https://', 'example.com', 7, null]) {
      assert.equal(httpUrl(bad), undefined, String(bad));
    }
  });
});
