// sign-in-bench.ts's set-up: a session signed in through the edge as a browser would (the edge's redirect, the test
// IdP's login form, the callback), and the checks that the two sides answer as the bench says before it times them.
import type { BenchChecks } from '../../control-plane/bench/checks.js';
import { EdgeBrowser } from '../support/edge-browser.js';
import { browse, CookieJar, follow, loginFormAction } from '../support/oidc-idp-rp.js';
import type { Target } from './sign-in-load.js';

const show = (r: { status: number; body: string }) => `${r.status} ${JSON.stringify(r.body.slice(0, 200))}`;

/**
 * Signs in as `login` from `path` (a signed-in route) and returns the edge's cookies for the host as one Cookie
 * header; undefined, with the failure recorded, when a step went otherwise.
 */
export async function signIn(
  checks: BenchChecks,
  t: Target,
  issuer: string,
  path: string,
  login: string,
): Promise<string | undefined> {
  const browser = new EdgeBrowser(t.port, t.ca);
  const first = await browser.get(t.host, path);
  const location = first.headers?.['location'];
  if (!checks.expect(first.status === 302 && typeof location === 'string', `${path}: ${show(first)} (want 302)`))
    return undefined;
  const toIdp = new URL(String(location));
  if (!checks.expect(toIdp.origin === issuer, `${path} redirected to ${toIdp.origin}, not the IdP ${issuer}`))
    return undefined;
  const jar = new CookieJar();
  const login1 = await follow(jar, toIdp);
  const action = loginFormAction(login1.html ?? '', toIdp);
  const posted = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login }) });
  const back = await follow(jar, new URL(posted.headers.get('location') ?? '', action));
  if (!checks.expect(back.redirect !== undefined, `the IdP did not send ${login} back: ${back.html?.slice(0, 300)}`))
    return undefined;
  const callback = await browser.getUrl(back.redirect!);
  const home = callback.headers?.['location'];
  if (!checks.expect(callback.status === 302 && typeof home === 'string', `the callback: ${show(callback)}`))
    return undefined;
  const page = await browser.getUrl(new URL(String(home)));
  if (!checks.expect(page.status === 200 && page.body === t.body, `back at ${path} signed in: ${show(page)}`))
    return undefined;
  const cookies = browser.cookies.get(t.host) ?? new Map<string, string>();
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/**
 * What the timed runs rely on: the signed-in route answers the upstream to the session's cookies and 401 without
 * them to a client that does not ask for HTML, and renews or refuses an altered session; the public route answers the
 * upstream.
 */
export async function checkAnswers(
  checks: BenchChecks,
  t: Target,
  routes: { signedIn: string; public: string },
  cookie: string,
): Promise<void> {
  // A browser of its own per request: none keeps a cookie another answer set.
  const get = (path: string, headers: Record<string, string>) =>
    new EdgeBrowser(t.port, t.ca).get(t.host, path, { accept: 'application/json', ...headers });
  const signedIn = await get(routes.signedIn, { cookie });
  checks.expect(
    signedIn.status === 200 && signedIn.body === t.body,
    `${routes.signedIn} with the session's cookies: ${show(signedIn)} (want 200 and the upstream's body)`,
  );
  const anonymous = await get(routes.signedIn, {});
  checks.expect(anonymous.status === 401, `${routes.signedIn} without cookies: ${show(anonymous)} (want 401)`);
  // One character of the ID token's cookie changed: Envoy must not take the session as is. Its oauth2 filter
  // renews such a session with the refresh token cookie (the token endpoint called once) or refuses it without.
  const altered = cookie.replace(/(_id=[^;]{20})(.)/, (_, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'));
  if (checks.expect(altered !== cookie, 'the session has no ID token cookie (*_id)')) {
    const before = t.idpTokenRequests();
    const renewed = await get(routes.signedIn, { cookie: altered });
    const tokenRequests = t.idpTokenRequests() - before;
    checks.expect(
      tokenRequests === 1 && renewed.status === 200,
      `${routes.signedIn} with an altered ID token: ${show(renewed)} after ${tokenRequests} token requests ` +
        `(want 200 after 1: a renewal)`,
    );
    const bare = altered.replace(/(^|; )[^=;]+_rt=[^;]*/, '');
    const refused = await get(routes.signedIn, { cookie: bare });
    checks.expect(
      bare !== altered && refused.status === 401,
      `${routes.signedIn} with an altered ID token, no refresh token: ${show(refused)} (want 401)`,
    );
  }
  const open = await get(routes.public, {});
  checks.expect(
    open.status === 200 && open.body === t.body,
    `${routes.public} without cookies: ${show(open)} (want 200 and the upstream's body)`,
  );
}
