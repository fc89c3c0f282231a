// Sign-in's config keys (issue 17), as Pomerium spells them: what is read, the defaults, and each error with its
// file, line and key. The provider's discovery document is read at run time (runtime/oidc-discovery.ts).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, expectOk, run, yaml } from './fixture.js';
import { errorsOf, files, loadTestPems } from './errors-fixture.js';
import { buildEdgeModel } from '../../../control-plane/src/model/index.js';
import { signInModel } from '../../../control-plane/src/model/sign-in.js';
import type { IdentityProviderConfig } from '../../../control-plane/src/config/index.js';

before(loadTestPems);

const SECRET = Buffer.alloc(32, 7).toString('base64');
const HEAD = yaml`
  certificate_file: server.pem
  certificate_key_file: server-key.pem
`;
const SIGN_IN = `idp_provider_url: https://idp.example.com\nidp_client_id: edge\nidp_client_secret: s3cret\ncookie_secret: ${SECRET}\n`;
const ROUTE = (policy: string) =>
  `routes:\n  - from: https://a.example.com\n    to: http://127.0.0.1:8080\n    policy: ${policy}\n`;

/** The 1-based line of the first line of `text` that starts `written` (a key, as the YAML spells it). */
const lineOf = (text: string, written: string): number =>
  text.split('\n').findIndex((l) => l.trimStart().startsWith(written)) + 1;

/** `text` has an error at `key`, on the line where `written` (default: the key itself) is. */
function expectError(text: string, key: string, message: RegExp, extra: Record<string, string> = {}, written = key) {
  assertError(errorsOf(text, extra), { key, line: lineOf(text, `${written}:`), message });
}

describe('sign-in config', () => {
  test('the keys, with Pomerium defaults', () => {
    const config = expectOk(run(HEAD + SIGN_IN + ROUTE('{allow: {or: [{email: a@example.com}]}}'), { files: files() }));
    const idp = config.identityProvider!;
    assert.equal(idp.issuer, 'https://idp.example.com');
    assert.equal(idp.clientId, 'edge');
    assert.deepEqual(idp.scopes, ['openid', 'email', 'profile']);
    assert.equal(idp.cookieName, '_pomerium');
    assert.equal(idp.cookieExpireSeconds, 14 * 3600);
    assert.equal(idp.cookieSameSite, 'lax');
    assert.equal(idp.groupsClaim, 'groups');
    assert.equal(idp.refreshMs, 300_000);
    assert.equal(idp.cookieSecret.toString('base64'), SECRET);
    // With sign-in, email reads the ID token.
    assert.equal(config.routes[0]!.policy!.allow[0]!.criteria[0]!.kind, 'session_email');
    assert.equal(config.routes[0]!.signIn, true);
  });

  test('from the environment, as in Pomerium; openid is always asked for', () => {
    const env = {
      IDP_PROVIDER_URL: 'https://idp.example.com/',
      IDP_CLIENT_ID: 'edge',
      IDP_CLIENT_SECRET: 's3cret',
      IDP_SCOPES: 'email,groups',
      COOKIE_SECRET: SECRET,
      COOKIE_SAME_SITE: 'None',
      COOKIE_EXPIRE: '30m',
    };
    const config = expectOk(run(HEAD + ROUTE('{allow: {or: [{groups: {has: ops}}]}}'), { files: files(), env }));
    assert.deepEqual(config.identityProvider?.scopes, ['openid', 'email', 'groups']);
    assert.equal(config.identityProvider?.cookieSameSite, 'none');
    assert.equal(config.identityProvider?.cookieExpireSeconds, 1800);
  });

  test('half a sign-in config names what is missing', () => {
    const text = HEAD + 'idp_client_id: edge\n' + ROUTE('{allow: {or: [{accept: true}]}}');
    expectError(
      text,
      'idp_client_id',
      /^sign-in \(idp_client_id\) also needs idp_provider_url \(the OpenID Connect issuer URL\); idp_client_secret or idp_client_secret_file; cookie_secret or cookie_secret_file, the same on every replica \(make one with: head -c32 \/dev\/urandom \| base64\)$/,
    );
  });

  test('values that cannot be', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['idp_provider: github', 'idp_provider', /"github" is not supported: use oidc/],
      ['idp_provider_url: ftp://idp.example.com', 'idp_provider_url', /expected an https or http URL/],
      ['idp_provider_url: https://user:pw@idp.example.com', 'idp_provider_url', /without user or password/],
      ['cookie_secret: c2hvcnQ=', 'cookie_secret', /exactly 32 random bytes/],
      ['cookie_name: "a b"', 'cookie_name', /a cookie name is letters, digits/],
      ['cookie_expire: soon', 'cookie_expire', /expected a duration/],
      ['cookie_domain: "example .com"', 'cookie_domain', /is not a domain name/],
      ['cookie_secure: false', 'cookie_secure', /always Secure and HttpOnly/],
      ['cookie_http_only: false', 'cookie_http_only', /always Secure and HttpOnly/],
      ['cookie_same_site: loose', 'cookie_same_site', /expected one of lax, none/],
      ['cookie_same_site: Strict', 'cookie_same_site', /strict would make every sign-in loop: .*use lax/],
      ['idp_refresh_interval: 10ms', 'idp_refresh_interval', /a second or more/],
      ['authenticate_service_url: http://auth.example.com', 'authenticate_service_url', /expected an https URL/],
      ['authenticate_service_url: https://a.example.com', 'authenticate_service_url', /needs cookie_domain/],
    ];
    for (const [line, key, message] of cases) {
      const base = SIGN_IN.split('\n')
        .filter((l) => !l.startsWith(`${key}:`))
        .join('\n');
      expectError(HEAD + base + line + '\n' + ROUTE('{allow: {or: [{accept: true}]}}'), key, message);
    }
  });

  test('authenticate_service_url: within cookie_domain, and a host the edge serves', () => {
    const outside = 'authenticate_service_url: https://auth.other.com\ncookie_domain: example.com\n';
    expectError(
      HEAD + SIGN_IN + outside + ROUTE('{allow: {or: [{accept: true}]}}'),
      'authenticate_service_url',
      /the host auth\.other\.com is not within cookie_domain example\.com/,
    );
    const notServed = 'authenticate_service_url: https://auth.example.com\ncookie_domain: example.com\n';
    expectError(
      HEAD + SIGN_IN + notServed + ROUTE('{allow: {or: [{accept: true}]}}'),
      'authenticate_service_url',
      /auth\.example\.com is not the host of any route: .*add a route from https:\/\/auth\.example\.com/,
    );
  });

  test('secrets from files are trimmed; both forms at once is an error', () => {
    const extra = { '/etc/edge/secret.txt': 's3cret\n', '/etc/edge/cookie.txt': `${SECRET}\n` };
    const fromFiles = SIGN_IN.replace('idp_client_secret: s3cret', 'idp_client_secret_file: secret.txt').replace(
      `cookie_secret: ${SECRET}`,
      'cookie_secret_file: cookie.txt',
    );
    const f = files();
    for (const [path, text] of Object.entries(extra)) f.contents.set(path, text);
    const config = expectOk(run(HEAD + fromFiles + ROUTE('{allow: {or: [{accept: true}]}}'), { files: f }));
    assert.equal(config.identityProvider?.clientSecret, 's3cret');
    const both = HEAD + SIGN_IN + 'idp_client_secret_file: secret.txt\n' + ROUTE('{allow: {or: [{accept: true}]}}');
    expectError(both, 'idp_client_secret_file', /set either idp_client_secret or idp_client_secret_file/, extra);
  });

  test('without sign-in, groups and claim/… say how to configure it; with it, they read the ID token', () => {
    const text = HEAD + ROUTE('{allow: {or: [{claim/department: sales}]}}');
    const key = 'routes[0].policy.allow.or[0].claim/department';
    expectError(text, key, /no identity provider is configured: set idp_provider_url/, {}, 'policy');
    const config = expectOk(
      run(HEAD + SIGN_IN + ROUTE('{allow: {or: [{claim/department: [sales, 7, true]}]}}'), { files: files() }),
    );
    const criterion = config.routes[0]!.policy!.allow[0]!.criteria[0]!;
    assert.deepEqual(criterion, { ...criterion, kind: 'claim', claim: 'department', values: ['sales', 7, true] });
  });

  test('sign-in needs no client CA: pass_identity_headers and allow_any_authenticated_user without one', () => {
    const route =
      'routes:\n  - from: https://a.example.com\n    to: http://127.0.0.1:8080\n' +
      '    allow_any_authenticated_user: true\n    pass_identity_headers: true\n';
    const config = expectOk(run(HEAD + SIGN_IN + route, { files: files() }));
    assert.equal(config.routes[0]!.signIn, true);
    assert.equal(config.routes[0]!.policy!.allow[0]!.criteria[0]!.kind, 'session_authenticated_user');
  });
});

describe('public_https_port: the port in URLs back to the edge', () => {
  test("a load balancer's 443 in front of 8443: no port; without it, the listen port; a bad value is an error", () => {
    const route = ROUTE('{allow: {or: [{email: a@example.com}]}}');
    const origin = (extra: string) => {
      const config = expectOk(run(HEAD + 'address: :8443\n' + extra + SIGN_IN + route, { files: files() }));
      const model = buildEdgeModel(config);
      assert.ok(model.ok);
      return model.value.signIn?.origin;
    };
    assert.equal(origin('public_https_port: 443\n'), 'https://%REQ(:authority)%');
    assert.equal(origin(''), 'https://%REQ(:authority)%:8443');
    assert.equal(origin('public_https_port: "9443"\n'), 'https://%REQ(:authority)%:9443');
    const text = HEAD + 'public_https_port: 70000\n' + SIGN_IN + route;
    expectError(text, 'public_https_port', /^expected a port number \(1–65535\), such as 443/);
  });
});

describe('access_log_fields with sign-in', () => {
  test('no field that would log the session: the Cookie header, or an internal header (the ID token)', () => {
    for (const field of ['headers.cookie', 'headers.Cookie', 'headers.x-mtls-edge-id-token', 'headers.X-MTLS-Edge-x']) {
      const policy = ROUTE('{allow: {or: [{domain: example.com}]}}');
      const text = `access_log_fields: [path, ${field}]\n${HEAD}${SIGN_IN}${policy}`;
      assertError(errorsOf(text), { key: 'access_log_fields[1]', line: 1, message: /could log the sign-in session/ });
    }
  });

  test('other headers, and the Cookie header without an identity provider, are logged as asked', () => {
    const signedIn = `access_log_fields: [path, headers.cookies, headers.x-mtls-edgy]\n${HEAD}${SIGN_IN}`;
    const fields = expectOk(run(signedIn + ROUTE('{allow: {or: [{domain: example.com}]}}'), { files: files() }));
    assert.deepEqual(fields.accessLogFields, ['path', 'headers.cookies', 'headers.x-mtls-edgy']);
    const plain = `access_log_fields: [headers.cookie]\n${HEAD}${ROUTE('{allow: {or: [{accept: true}]}}')}`;
    assert.deepEqual(expectOk(run(plain, { files: files() })).accessLogFields, ['headers.cookie']);
  });
});

describe('where a sign-in may return', () => {
  test("the edge's host names once each, an IPv6 literal without brackets (as Envoy compares them)", () => {
    const config = {} as IdentityProviderConfig;
    const hosts = ['a.example.com', '[::1]', '*.b.example.com', 'a.example.com', '127.0.0.1'];
    assert.deepEqual(signInModel(config, undefined, 443, hosts).redirectHosts, [
      '*.b.example.com',
      '127.0.0.1',
      '::1',
      'a.example.com',
    ]);
  });
});
