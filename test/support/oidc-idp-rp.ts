import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { IdpClient } from './oidc-idp.js';

/**
 * A relying party in plain fetch, no browser: what the test IdP is checked with, and what a test can use to
 * sign in without Envoy. Redirects are never followed by fetch: each hop's Location is read, and the IdP's
 * cookies are kept by name in a jar (the test talks to one IdP, so paths and domains need no care).
 */

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  scopes_supported?: string[];
  claims_supported?: string[];
  code_challenge_methods_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
}

export interface TokenResponse {
  id_token?: string;
  access_token?: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

export class CookieJar {
  readonly #cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** One request as a browser would send it to the IdP: its cookies, no redirect followed. */
export async function browse(jar: CookieJar, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (jar.header()) headers.set('cookie', jar.header());
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.take(res);
  return res;
}

export async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  return (await res.json()) as Discovery;
}

/** The authorization request Envoy's oauth2 filter sends: code flow, PKCE S256, state and nonce; `extra` wins. */
export function authorizationRequest(d: Discovery, client: IdpClient, extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const url = new URL(d.authorization_endpoint);
  const redirectUri = client.redirectUris[0] ?? '';
  url.search = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    scope: 'openid email profile groups',
    redirect_uri: redirectUri,
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url, verifier, state, nonce, redirectUri };
}

/**
 * Follows the IdP's redirects from `url` until one leaves the IdP (returned as `redirect`, not followed) or a page
 * is shown (returned as `page`: the login form, an error).
 */
export async function follow(jar: CookieJar, url: string | URL) {
  let next = new URL(url);
  for (let hop = 0; hop < 10; hop += 1) {
    const res = await browse(jar, next);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || !location) return { page: res, html: await res.text() };
    next = new URL(location, next);
    if (next.origin !== new URL(url).origin) return { redirect: next };
  }
  throw new Error(`more than 10 redirects from ${String(url)}`);
}

/** The login form's action, after checking that the page is the form a browser test fills (ids login, submit). */
export function loginFormAction(html: string, pageUrl: string | URL): URL {
  assert.match(html, /<input id="login" name="login"/);
  assert.match(html, /<button id="submit" type="submit"/);
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, 'the login page has a form with an action');
  return new URL(action, pageUrl);
}

/** The whole sign-in, as a browser and Envoy do it: the code at the redirect URI, and what to redeem it with. */
export async function signIn(d: Discovery, client: IdpClient, login: string, jar = new CookieJar()) {
  const request = authorizationRequest(d, client);
  const first = await follow(jar, request.url);
  let redirect = first.redirect;
  if (!redirect) {
    assert.equal(first.page?.status, 200, first.html);
    const action = loginFormAction(first.html ?? '', d.issuer);
    const posted = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login }) });
    assert.equal(posted.status, 303, await posted.clone().text());
    const after = await follow(jar, new URL(posted.headers.get('location') ?? '', action));
    assert.ok(after.redirect, `no redirect to the client after the login form: ${after.html}`);
    redirect = after.redirect;
  }
  assert.equal(`${redirect.origin}${redirect.pathname}`, request.redirectUri);
  assert.equal(redirect.searchParams.get('state'), request.state);
  const code = redirect.searchParams.get('code');
  assert.ok(code, `no code at the redirect URI: ${redirect.href}`);
  return { ...request, code, redirect, jar };
}

/** The token endpoint, with the client's secret in the Authorization header (basic) or in the body (post). */
export async function tokenRequest(
  d: Discovery,
  client: IdpClient,
  params: Record<string, string>,
  auth: 'basic' | 'post' = 'basic',
): Promise<{ status: number; body: TokenResponse }> {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = {};
  if (auth === 'post') {
    body.set('client_id', client.clientId);
    body.set('client_secret', client.clientSecret);
  } else {
    const encode = (s: string) => encodeURIComponent(s);
    const basic = `${encode(client.clientId)}:${encode(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }
  const res = await fetch(d.token_endpoint, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as TokenResponse };
}

/** Redeems the code of a `signIn()` with its redirect URI and PKCE verifier, as Envoy does. */
export function redeemCode(
  d: Discovery,
  client: IdpClient,
  signedIn: { code: string; redirectUri: string; verifier: string },
  auth: 'basic' | 'post' = 'basic',
): Promise<{ status: number; body: TokenResponse }> {
  const { code, redirectUri, verifier } = signedIn;
  const params = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier };
  return tokenRequest(d, client, params, auth);
}
