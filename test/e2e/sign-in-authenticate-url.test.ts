// authenticate_service_url (issue 17): one origin takes every sign-in's callback, so that only it is registered at
// the provider; the session cookie is set for cookie_domain and reaches the signed-in routes of other hosts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browse, CookieJar, follow, loginFormAction } from '../support/oidc-idp-rp.js';
import { HOSTS } from '../support/pki-fixture.js';
import { startSignInEdge, type SignInEdge } from '../support/sign-in-fixture.js';

const ROUTES = (upstream: string) =>
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    policy: {allow: {or: [{domain: {is: example.com}}]}}\n` +
  `  - from: https://${HOSTS.y}\n    to: ${upstream}\n    allow_public_unauthenticated_access: true\n`;

describe('authenticate_service_url: one callback origin for every route', () => {
  let s: SignInEdge;

  before(async () => {
    s = await startSignInEdge({
      routes: ROUTES,
      callbackPath: '/oauth2/callback',
      extra: (port) => [`authenticate_service_url: https://${HOSTS.y}:${port}`, 'cookie_domain: mtls.test'],
    });
  });
  after(async () => {
    await s?.stop();
  });

  it('a sign-in on one host returns through the authenticate origin, and the session reaches the route', async () => {
    const browser = s.browser();
    const first = await browser.get(HOSTS.x, '/page');
    assert.equal(first.status, 302, first.body);
    const location = new URL(String(first.headers?.['location']));
    assert.equal(location.searchParams.get('redirect_uri'), `https://${HOSTS.y}:${s.port}/oauth2/callback`);
    const jar = new CookieJar();
    const form = await follow(jar, location);
    const action = loginFormAction(form.html ?? '', location);
    const posted = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login: 'alice' }) });
    const back = await follow(jar, new URL(posted.headers.get('location') ?? '', action));
    assert.ok(back.redirect);
    assert.equal(back.redirect.hostname, HOSTS.y, 'the provider sends the browser to the authenticate origin');
    const callback = await browser.getUrl(back.redirect);
    assert.equal(callback.status, 302, `${callback.body}\n${s.edge.output().slice(-2000)}`);
    const page = new URL(String(callback.headers?.['location']));
    assert.equal(`${page.hostname}${page.pathname}`, `${HOSTS.x}/page`, 'back to the page on its own host');
    const res = await browser.getUrl(page);
    assert.equal(res.status, 200, res.body.slice(0, 300));
    assert.ok(browser.cookies.has('.mtls.test'), 'the session cookies are set for cookie_domain');
  });
});
