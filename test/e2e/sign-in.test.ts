// Sign-in with an OpenID Connect provider (issue 17), through a real Envoy and a real provider (oidc-provider) on
// loopback: the redirect, the login form, the callback, the session cookies, and the policy over the ID token's
// claims, alone and with a client certificate. The browser's part is played over node:https
// (test/support/edge-browser.ts); sign-in-browser.test.ts runs the flow in Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectHandshakeRefused } from '../support/https-client.js';
import { requestOverSession } from '../support/tls-session.js';
import { HOSTS } from '../support/pki-fixture.js';
import { signInAs, startSignInEdge, type SignInEdge } from '../support/sign-in-fixture.js';
import { SESSION_COOKIES_STAT_PREFIX } from '../../control-plane/src/translate/http-filters/session-cookies.js';

const policyRoute = (host: string, upstream: string, prefix: string | undefined, policy: string) =>
  `  - from: https://${host}\n    to: ${upstream}\n${prefix ? `    prefix: ${prefix}\n` : ''}    policy: ${policy}\n`;

// Host x: the session alone decides, one kind of rule per path. Host y also needs a certificate from CA A, and
// its policy reads both the session and the certificate.
const ROUTES = (upstream: string) =>
  policyRoute(HOSTS.x, upstream, '/admins', '{allow: {or: [{groups: {has: admins}}]}}') +
  policyRoute(HOSTS.x, upstream, '/sales', '{allow: {or: [{claim/department: sales}]}}') +
  policyRoute(
    HOSTS.x,
    upstream,
    '/no-staff',
    '{allow: {or: [{domain: {is: example.com}}]}, deny: {or: [{groups: {has: staff}}]}}',
  ) +
  policyRoute(HOSTS.x, upstream, '/mallory', '{allow: {or: [{email: {is: mallory@example.com}}]}}') +
  policyRoute(HOSTS.x, upstream, '/not-mallory', '{allow: {or: [{email: {not: mallory@example.com}}]}}') +
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    prefix: /public\n` +
  '    allow_public_unauthenticated_access: true\n' +
  policyRoute(HOSTS.x, upstream, undefined, '{allow: {or: [{domain: {is: example.com}}]}}') +
  policyRoute(
    HOSTS.y,
    upstream,
    undefined,
    '{allow: {and: [{email: {is: alice@example.com}}, {client_certificate: {san_email: {is: alice@example.com}}}]}}',
  ) +
  '    tls_downstream_client_ca_file: ca-a.pem\n';

describe('sign-in with an identity provider, decided inside Envoy', () => {
  let s: SignInEdge;

  before(async () => {
    s = await startSignInEdge({ routes: ROUTES });
  });
  after(async () => {
    await s?.stop();
  });

  it('a browser is sent to the provider, signs in, and comes back to its page, signed in', async () => {
    const browser = s.browser();
    const page = await signInAs(browser, s, HOSTS.x, '/hello?q=1', 'alice');
    assert.equal(page.status, 200, page.body);
    assert.equal(page.body, 'upstream app /hello?q=1');
    // The session is cookies Envoy signed (HMAC) and encrypted; the next request needs no provider.
    const authorizations = s.idp.counts.authorization;
    assert.equal((await browser.get(HOSTS.x, '/again')).status, 200);
    assert.equal(s.idp.counts.authorization, authorizations);
    const seen = s.upstream.seen.find((r) => r.url === '/hello?q=1');
    assert.ok(seen, 'the upstream got the request');
    assert.equal(seen.headers['x-mtls-edge-id-token'], undefined, 'the ID token stays inside the edge');
    // The session's cookies stay at the edge too (Envoy would pass the ID token's on, decrypted); the application's
    // own cookies go on (as Envoy's oauth2 filter wrote them again: one per name, in any order).
    // With no cookie of the application's, no Cookie header at all (not an empty one).
    assert.equal(seen.headers['cookie'], undefined, 'the session cookies reached the upstream');
    assert.equal((await browser.get(HOSTS.x, '/with-app-cookie', { cookie: 'app=1; theme=dark' })).status, 302);
    const jar = [...(browser.cookies.get(HOSTS.x) ?? [])].map(([k, v]) => `${k}=${v}`).join('; ');
    // Look-alike names are the application's: only `_pomerium` and `_pomerium_…` are the edge's.
    const lookAlikes = '_pomeriumx=3; x_pomerium=4; _Pomerium_id=5';
    const cookie = `app=1; ${jar}; theme=dark; ${lookAlikes}`;
    assert.equal((await browser.get(HOSTS.x, '/with-app-cookie', { cookie })).status, 200);
    const withApp = s.upstream.seen.find((r) => r.url === '/with-app-cookie');
    // (In any order: Envoy's oauth2 filter writes the header again from what it parsed.)
    assert.deepEqual(String(withApp?.headers['cookie']).split('; ').sort(), [
      '_Pomerium_id=5',
      '_pomeriumx=3',
      'app=1',
      'theme=dark',
      'x_pomerium=4',
    ]);
    // The application's one cookie among the session's (in the order Envoy's oauth2 filter writes them; the unit
    // test has every order): nothing else is left, not even a separator.
    assert.equal((await browser.get(HOSTS.x, '/one-app-cookie', { cookie: `${jar}; app=2` })).status, 200);
    const oneAppCookie = s.upstream.seen.find((r) => r.url === '/one-app-cookie');
    assert.equal(oneAppCookie?.headers['cookie'], 'app=2');
    // Application cookies of 8 KiB or more cannot wait in Envoy's metadata: the upstream gets none, and still
    // nothing of the session's, and a counter says so (docs/sign-in.md).
    const tooLong = async () => {
      const stats = await s.edge.envoyStats(`http_filter_name.${SESSION_COOKIES_STAT_PREFIX}.`);
      return stats[`http_filter_name.${SESSION_COOKIES_STAT_PREFIX}.header_value_too_long`] ?? NaN;
    };
    const tooLongBefore = await tooLong();
    const big = `big=${'b'.repeat(9000)}`;
    assert.equal((await browser.get(HOSTS.x, '/big-app-cookie', { cookie: `${jar}; ${big}` })).status, 200);
    const bigSeen = s.upstream.seen.find((r) => r.url === '/big-app-cookie');
    assert.ok(bigSeen, 'the upstream got the request');
    assert.equal(bigSeen.headers['cookie'], undefined);
    assert.equal((await tooLong()) - tooLongBefore, 1, 'header_to_metadata counts the cookies it could not keep');
  });

  it('the session cookies are Secure, HttpOnly and SameSite=Lax, and named after cookie_name', async () => {
    const browser = s.browser();
    const first = await browser.get(HOSTS.x, '/');
    const flowCookies = [first.headers?.['set-cookie'] ?? []].flat();
    assert.ok(flowCookies.length >= 2, 'the flow sets its nonce and code-verifier cookies');
    for (const line of flowCookies) {
      assert.match(line, /^_pomerium_(csrf|pkce)(\.[0-9a-f]+)?=/);
      assert.match(line, /;\s*Secure/i);
      assert.match(line, /;\s*HttpOnly/i);
      assert.match(line, /;\s*SameSite=Lax/i);
    }
    const location = new URL(String(first.headers?.['location']));
    // The state is bound to the nonce cookie, the code to a PKCE verifier; the ID token is what the edge asks for.
    assert.ok(location.searchParams.get('state'));
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.match(location.searchParams.get('scope') ?? '', /\bopenid\b/);
    assert.equal(location.searchParams.get('redirect_uri'), `https://${HOSTS.x}:${s.port}/.pomerium/callback`);
  });

  it('a script or command-line client without a session gets 401, not a redirect', async () => {
    const before = s.idp.counts.authorization;
    for (const accept of ['*/*', 'application/json']) {
      const res = await s.browser().get(HOSTS.x, '/', { accept });
      assert.equal(res.status, 401, `Accept: ${accept}`);
      assert.equal(res.headers?.['location'], undefined);
    }
    const none = await s.browser().get(HOSTS.x, '/', { accept: '' });
    assert.equal(none.status, 401, 'no Accept at all');
    assert.equal(s.idp.counts.authorization, before, 'the provider was never asked');
  });

  it('a public route on the same host needs no sign-in', async () => {
    const res = await s.browser().get(HOSTS.x, '/public/x', { accept: '*/*' });
    assert.equal(res.status, 200);
  });

  it('domain, email, groups, claim/… and deny rules over the ID token allow and refuse', async () => {
    const cases: Array<[string, Record<string, number>]> = [
      ['alice', { '/': 200, '/admins': 200, '/sales': 200, '/no-staff': 200, '/not-mallory': 200 }],
      ['bob', { '/': 200, '/admins': 403, '/sales': 403, '/no-staff': 403 }],
      ['carol', { '/': 403, '/admins': 200, '/sales': 200, '/no-staff': 403 }],
      // Her email is example.com's and named by /mallory's rule, but the provider has not verified it: no identity.
      // (Her department claim is read as any other claim.)
      // An unverified email is no email: a `not` rule holds for it, as for a token without one.
      ['mallory', { '/sales': 200, '/': 403, '/mallory': 403, '/no-staff': 403, '/not-mallory': 200 }],
    ];
    for (const [user, expected] of cases) {
      const browser = s.browser();
      const [firstPath, ...rest] = Object.keys(expected);
      const first = await signInAs(browser, s, HOSTS.x, firstPath!, user);
      assert.equal(first.status, expected[firstPath!], `${user} ${firstPath}`);
      for (const path of rest) {
        const res = await browser.get(HOSTS.x, path);
        assert.equal(res.status, expected[path], `${user} ${path}: ${res.body.slice(0, 300)}`);
        // A 403 page anyone can read names the kind of rule, never whom it lets in.
        if (res.status === 403) assert.doesNotMatch(res.body, /@example\.com|admins|sales|staff/);
      }
    }
  });

  it('signed in and a certificate, both ways: each side of the "and" is checked', async () => {
    const alice = s.browser(s.pki.clientA);
    const page = await signInAs(alice, s, HOSTS.y, '/', 'alice');
    assert.equal(page.status, 200, page.body);
    // The right session with another person's certificate (same CA), and the right certificate with another session.
    const carolsCertificate = s.browser(s.pki.clientAViaIntermediate);
    assert.equal((await signInAs(carolsCertificate, s, HOSTS.y, '/', 'alice')).status, 403);
    const bob = s.browser(s.pki.clientA);
    assert.equal((await signInAs(bob, s, HOSTS.y, '/', 'bob')).status, 403);
  });

  it('on a resumed TLS session the policy is still decided with the session (both ways)', async () => {
    const cookies = (b: ReturnType<SignInEdge['browser']>) =>
      [...(b.cookies.get(HOSTS.y) ?? [])].map(([k, v]) => `${k}=${v}`).join('; ');
    const alice = s.browser(s.pki.clientA);
    assert.equal((await signInAs(alice, s, HOSTS.y, '/', 'alice')).status, 200);
    const bob = s.browser(s.pki.clientA);
    assert.equal((await signInAs(bob, s, HOSTS.y, '/', 'bob')).status, 403);
    const over = (who: string, offered?: Buffer) =>
      requestOverSession({
        port: s.port,
        servername: HOSTS.y,
        ca: s.pki.caA,
        client: s.pki.clientA,
        version: 'TLSv1.2',
        offered,
        headers: { cookie: who, accept: '*/*' },
      });
    const first = await over(cookies(alice));
    assert.equal(first.status, 200);
    for (const [who, status] of [
      [cookies(alice), 200],
      [cookies(bob), 403],
    ] as const) {
      const resumed = await over(who, first.session);
      assert.ok(resumed.reused, 'the TLS session resumed');
      assert.equal(resumed.status, status);
    }
  });

  it('mTLS stays first: without a valid certificate the handshake fails, before any redirect', async () => {
    const before = s.idp.counts.authorization;
    const request = { port: s.port, servername: HOSTS.y, ca: s.pki.caA, path: '/', headers: { accept: 'text/html' } };
    await expectHandshakeRefused(request);
    await expectHandshakeRefused({ ...request, ...s.pki.clientB });
    await expectHandshakeRefused({ ...request, ...s.pki.expiredA });
    assert.equal(s.idp.counts.authorization, before, 'the provider was never asked');
  });
});
