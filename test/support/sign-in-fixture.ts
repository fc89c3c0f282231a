// One edge with sign-in against the test OpenID provider, for the sign-in tests: the provider's users and clients,
// an upstream, and the flow a browser goes through (over node:https: EdgeBrowser keeps the edge's cookies).
import assert from 'node:assert/strict';
import type { ClientResponse } from './https-client.js';
import { startEdge, type RunningEdge } from './edge.js';
import { EdgeBrowser } from './edge-browser.js';
import { browse, CookieJar, follow, loginFormAction } from './oidc-idp-rp.js';
import { startIdp, type IdpUser, type StartedIdp } from './oidc-idp.js';
import { createTestPki, HOSTS, type TestPki } from './pki-fixture.js';
import { freePort } from './ports.js';
import { startUpstream, type TestUpstream } from './upstream.js';

export const COOKIE_SECRET = Buffer.alloc(32, 7).toString('base64');
export const CLIENT = { clientId: 'mtls-edge', clientSecret: 'edge-secret-1' };
/** A second client the provider knows, with the same redirect URIs: an edit may switch the edge to it. */
export const OTHER_CLIENT = { clientId: 'mtls-edge-other', clientSecret: 'edge-secret-2' };

export const USERS: IdpUser[] = [
  { id: 'alice', email: 'alice@example.com', groups: ['admins'], extra: { department: 'sales' } },
  { id: 'bob', email: 'bob@example.com', groups: ['staff'], extra: { department: 'support' } },
  { id: 'carol', email: 'carol@other.example', groups: ['admins'], extra: { department: 'sales' } },
  // The provider has not verified her email: no `email` or `domain` criterion reads it.
  { id: 'mallory', email: 'mallory@example.com', emailVerified: false, groups: [], extra: { department: 'sales' } },
  // Her ID token outlives the edge's clock skew (10 s) only briefly: an expiry test waits for it.
  { id: 'dave', email: 'dave@example.com', groups: [], idTokenTtlSeconds: 1 },
];

/** A sign-in config's first lines: the server certificate (as createTestPki names it), the provider, the client. */
export function signInConfigHead(issuer: string, client = CLIENT, cookieSecret = COOKIE_SECRET): string[] {
  return [
    'certificate_file: server.pem',
    'certificate_key_file: server-key.pem',
    `idp_provider_url: ${issuer}`,
    `idp_client_id: ${client.clientId}`,
    `idp_client_secret: ${client.clientSecret}`,
    'idp_scopes: openid email profile groups',
    `cookie_secret: ${cookieSecret}`,
  ];
}

export interface SignInEdge {
  pki: TestPki;
  idp: StartedIdp;
  upstream: TestUpstream;
  edge: RunningEdge;
  port: number;
  /** The config's lines above `routes:` (the sign-in keys), for an edit to change. */
  head: string[];
  routes: string;
  browser(certificate?: { cert: string; key: string }): EdgeBrowser;
  stop(): Promise<void>;
}

/**
 * `routes(upstream)`: the YAML of the routes list (without `routes:`). `extra`: more top-level lines. With
 * `providerDown`, the provider is paused before the edge starts.
 */
export async function startSignInEdge(o: {
  routes: (upstream: string) => string;
  /** More top-level lines; a function gets the edge's HTTPS port. */
  extra?: string[] | ((port: number) => string[]);
  providerDown?: boolean;
  env?: Record<string, string>;
  /** The path of the redirect URIs registered at the provider (authenticate_service_url's is /oauth2/callback). */
  callbackPath?: string;
}): Promise<SignInEdge> {
  const pki = await createTestPki();
  const port = await freePort();
  const callbackPath = o.callbackPath ?? '/.pomerium/callback';
  const redirectUris = Object.values(HOSTS).map((host) => `https://${host}:${port}${callbackPath}`);
  const postLogoutRedirectUris = Object.values(HOSTS).map((host) => `https://${host}:${port}/`);
  const idp = await startIdp({
    users: USERS,
    clients: [CLIENT, OTHER_CLIENT].map((c) => ({ ...c, redirectUris, postLogoutRedirectUris })),
  });
  if (o.providerDown) await idp.pause();
  const upstream = await startUpstream('app');
  const head = [...signInConfigHead(idp.issuer), ...(typeof o.extra === 'function' ? o.extra(port) : (o.extra ?? []))];
  const routes = o.routes(upstream.url);
  const edge = await startEdge({
    dir: pki.dir,
    yaml: `${head.join('\n')}\nroutes:\n${routes}`,
    httpsPort: port,
    env: o.env,
  });
  return {
    pki,
    idp,
    upstream,
    edge,
    port,
    head,
    routes,
    browser: (certificate) => new EdgeBrowser(port, pki.caA, certificate),
    stop: async () => {
      await edge.stop();
      await idp.stop();
      await upstream.close();
    },
  };
}

/**
 * A browser's whole sign-in: the page asks for sign-in (302 to the provider), the login form as `login`, the
 * provider's redirect back to the edge's callback (302 to the page), and the page itself, whose answer is returned.
 */
export async function signInAs(
  browser: EdgeBrowser,
  s: Pick<SignInEdge, 'idp' | 'edge'>,
  host: string,
  path: string,
  login: string,
): Promise<ClientResponse> {
  const first = await browser.get(host, path);
  assert.equal(first.status, 302, `${first.body}\n${s.edge.output().slice(-3000)}`);
  const location = new URL(String(first.headers?.['location']));
  assert.equal(location.origin, s.idp.issuer, 'the page sends the browser to the provider');
  const jar = new CookieJar();
  const login0 = await follow(jar, location);
  assert.ok(login0.page, 'the provider shows its login form');
  const action = loginFormAction(login0.html ?? '', location);
  const posted = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login }) });
  const back = await follow(jar, new URL(posted.headers.get('location') ?? '', action));
  assert.ok(back.redirect, `the provider sends the browser back: ${back.html}`);
  const callback = await browser.getUrl(back.redirect);
  assert.equal(callback.status, 302, `the callback answers with the page: ${callback.body}`);
  const page = new URL(String(callback.headers?.['location']));
  assert.equal(`${page.pathname}${page.search}`, path, 'the callback sends the browser back to the page it asked for');
  return browser.getUrl(page);
}

/** The last redirect of a sign-in: the callback URL with its code and state (a replay test sends it again). */
export async function callbackUrl(
  browser: EdgeBrowser,
  s: Pick<SignInEdge, 'idp'>,
  host: string,
  path: string,
  login: string,
): Promise<URL> {
  const first = await browser.get(host, path);
  const location = new URL(String(first.headers?.['location']));
  assert.equal(location.origin, s.idp.issuer);
  const jar = new CookieJar();
  const form = await follow(jar, location);
  const action = loginFormAction(form.html ?? '', location);
  const posted = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login }) });
  const back = await follow(jar, new URL(posted.headers.get('location') ?? '', action));
  assert.ok(back.redirect);
  return back.redirect;
}
