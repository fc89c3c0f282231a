import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import { foreignKey, mintIdToken, startIdp, type IdpClient, type StartedIdp } from '../support/oidc-idp.js';
import {
  authorizationRequest,
  browse,
  CookieJar,
  discover,
  follow,
  loginFormAction,
  redeemCode,
  signIn,
  tokenRequest,
  type Discovery,
} from '../support/oidc-idp-rp.js';

const CLIENT: IdpClient = {
  clientId: 'mtls-edge',
  clientSecret: 'a secret/with+odd=chars',
  // The kinds of redirect URI the edge's tests register: https on a *.localhost name and on the loopback address.
  redirectUris: ['https://app.localhost:8443/.pomerium/callback', 'https://127.0.0.1:8443/.pomerium/callback'],
  postLogoutRedirectUris: ['https://app.localhost:8443/signed-out'],
};
const ALICE = { id: 'alice', email: 'alice@example.com', groups: ['admins', 'staff'], name: 'Alice Example' };
const BOB = { id: 'bob', email: 'bob@example.com', emailVerified: false, groups: [], extra: { department: 'ops' } };

describe('the test OpenID Connect provider (oidc-provider on loopback)', () => {
  const ctx = {} as { idp: StartedIdp; d: Discovery };
  before(async () => {
    ctx.idp = await startIdp({ users: [ALICE, BOB], clients: [CLIENT] });
    ctx.d = await discover(ctx.idp.issuer);
  });
  after(() => ctx.idp?.stop());
  const jwks = async () => ((await (await fetch(ctx.d.jwks_uri)).json()) as JSONWebKeySet).keys.map((k) => k.kid);
  const verify = (idToken: string) =>
    jwtVerify(idToken, createRemoteJWKSet(new URL(ctx.d.jwks_uri)), {
      issuer: ctx.idp.issuer,
      audience: CLIENT.clientId,
    });

  it('serves discovery for a plain-http loopback issuer: code flow, PKCE S256, both secret methods, logout', () => {
    const { d, idp } = ctx;
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(d.issuer, idp.issuer);
    assert.equal(d.end_session_endpoint, `${idp.issuer}/session/end`);
    for (const scope of ['openid', 'email', 'profile', 'groups']) assert.ok(d.scopes_supported?.includes(scope));
    assert.ok(d.claims_supported?.includes('groups'));
    assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
    assert.ok(d.token_endpoint_auth_methods_supported?.includes('client_secret_basic'));
    assert.ok(d.token_endpoint_auth_methods_supported?.includes('client_secret_post'));
    assert.ok(d.id_token_signing_alg_values_supported?.includes('RS256'));
  });

  it('signs in through the login form; the ID token verifies against the JWKS and carries the claims', async () => {
    const before = { ...ctx.idp.counts };
    const signedIn = await signIn(ctx.d, CLIENT, ALICE.email);
    const tokens = await redeemCode(ctx.d, CLIENT, signedIn);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.ok(tokens.body.id_token && tokens.body.access_token && tokens.body.refresh_token);
    const { payload, protectedHeader } = await verify(tokens.body.id_token);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(protectedHeader.kid, ctx.idp.signingKeys()[0]?.kid);
    assert.equal(payload.nonce, signedIn.nonce);
    assert.equal(payload.sub, ALICE.id);
    assert.equal(payload.email, ALICE.email);
    assert.equal(payload.email_verified, true);
    assert.equal(payload.name, ALICE.name);
    assert.deepEqual(payload.groups, ALICE.groups);
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 3600);
    const counts = ctx.idp.counts;
    // One authorization request (its resumption after the form, /auth/UID, is not one), one token request, one
    // JWKS fetch (by jwtVerify), no discovery.
    const diff = (k: keyof typeof counts) => counts[k] - before[k];
    assert.deepEqual(
      [diff('authorization'), diff('token'), diff('jwks'), diff('discovery'), diff('endSession')],
      [1, 1, 1, 0, 0],
    );
    // The code is spent: a second exchange fails.
    const again = await redeemCode(ctx.d, CLIENT, signedIn);
    assert.equal(again.body.error, 'invalid_grant');
  });

  it('refuses a code redeemed without the PKCE verifier that matches its challenge', async () => {
    const signedIn = await signIn(ctx.d, CLIENT, ALICE.id);
    const params = { grant_type: 'authorization_code', code: signedIn.code, redirect_uri: signedIn.redirectUri };
    const wrong = await tokenRequest(ctx.d, CLIENT, { ...params, code_verifier: 'x'.repeat(43) });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
  });

  it('takes client_secret_post too, and refreshes; extra claims come with the profile scope', async () => {
    const signedIn = await signIn(ctx.d, CLIENT, BOB.id);
    const tokens = await redeemCode(ctx.d, CLIENT, signedIn, 'post');
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const { payload } = await verify(tokens.body.id_token ?? '');
    assert.equal(payload.nonce, signedIn.nonce);
    assert.equal(payload.email_verified, false);
    assert.deepEqual(payload.groups, []);
    assert.equal(payload.department, 'ops');
    assert.equal(payload.name, undefined);
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token ?? '' };
    const refreshed = await tokenRequest(ctx.d, CLIENT, refresh, 'post');
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal((await verify(refreshed.body.id_token ?? '')).payload.sub, BOB.id);
  });

  it('shows the form again, with the error, to someone who is not a user', async () => {
    const jar = new CookieJar();
    const url = new URL(ctx.d.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: CLIENT.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: CLIENT.redirectUris[1] ?? '',
    }).toString();
    const form = await follow(jar, url);
    const action = loginFormAction(form.html ?? '', ctx.idp.issuer);
    const res = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login: 'mallory' }) });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.equal(loginFormAction(html, ctx.idp.issuer).href, action.href);
    assert.match(html, /<p id="error" role="alert">No such user: mallory<\/p>/);
    assert.match(html, /value="mallory"/);
  });

  it('gives consent to prompt=consent without a page, and asks again for prompt=login', async () => {
    const jar = new CookieJar();
    await signIn(ctx.d, CLIENT, ALICE.id, jar);
    const consent = await follow(jar, authorizationRequest(ctx.d, CLIENT, { prompt: 'consent' }).url);
    assert.ok(consent.redirect?.searchParams.get('code'), consent.html);
    const login = await follow(jar, authorizationRequest(ctx.d, CLIENT, { prompt: 'login' }).url);
    assert.ok(login.html?.includes('id="login"'), 'the login form, not a code');
  });

  it('signs the tests own tokens with its key; a foreign key and an expired token fail verification', async () => {
    const [key] = ctx.idp.signingKeys();
    assert.ok(key?.d, 'signingKeys() are private keys');
    const claims = { iss: ctx.idp.issuer, aud: CLIENT.clientId, sub: ALICE.id, email: ALICE.email };
    assert.equal((await verify(await mintIdToken(key, claims))).payload.email, ALICE.email);
    await assert.rejects(verify(await mintIdToken(await foreignKey(), claims)), errors.JWKSNoMatchingKey);
    await assert.rejects(verify(await mintIdToken(key, claims, { expiresInSeconds: -120 })), errors.JWTExpired);
    const wrongAudience = await mintIdToken(key, { ...claims, aud: 'someone-else' });
    await assert.rejects(verify(wrongAudience), errors.JWTClaimValidationFailed);
  });

  it('rotates keys on the same port: the new kid signs and is served, the old one kept or dropped', async () => {
    const old = ctx.idp.signingKeys()[0]?.kid;
    const jar = new CookieJar();
    await signIn(ctx.d, CLIENT, ALICE.id, jar);
    await ctx.idp.rotateKeys();
    const rotated = ctx.idp.signingKeys().map((k) => k.kid);
    assert.equal(rotated.length, 2);
    assert.notEqual(rotated[0], old);
    assert.equal(rotated[1], old);
    assert.deepEqual(await jwks(), rotated);
    // The session survives the new Provider: no login form this time, and the new key signs.
    const signedIn = await signIn(ctx.d, CLIENT, 'nobody: the session answers', jar);
    const tokens = await redeemCode(ctx.d, CLIENT, signedIn);
    assert.equal(decodeProtectedHeader(tokens.body.id_token ?? '').kid, rotated[0]);
    await ctx.idp.rotateKeys({ keepOld: false });
    const alone = ctx.idp.signingKeys().map((k) => k.kid);
    assert.equal(alone.length, 1);
    assert.ok(!rotated.includes(alone[0]));
    assert.deepEqual(await jwks(), alone);
    assert.equal((await discover(ctx.idp.issuer)).jwks_uri, ctx.d.jwks_uri);
  });

  it('pause() refuses connections (the IdP is down) and resume() answers again on the same port', async () => {
    const keepAlive = await fetch(ctx.d.jwks_uri);
    assert.equal(keepAlive.status, 200);
    await keepAlive.arrayBuffer();
    await ctx.idp.pause();
    try {
      const refused = await fetch(`${ctx.idp.issuer}/.well-known/openid-configuration`).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof TypeError, 'fetch fails');
      assert.equal((refused.cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNREFUSED');
    } finally {
      await ctx.idp.resume();
    }
    assert.equal((await discover(ctx.idp.issuer)).issuer, ctx.idp.issuer);
  });

  it('ends the session at the end_session endpoint: the auto-submitted confirmation, then the RP', async () => {
    const jar = new CookieJar();
    const signedIn = await signIn(ctx.d, CLIENT, ALICE.id, jar);
    const tokens = await redeemCode(ctx.d, CLIENT, signedIn);
    const before = ctx.idp.counts.endSession;
    const logout = new URL(ctx.d.end_session_endpoint ?? '');
    logout.search = new URLSearchParams({
      id_token_hint: tokens.body.id_token ?? '',
      post_logout_redirect_uri: CLIENT.postLogoutRedirectUris?.[0] ?? '',
      state: 'bye',
    }).toString();
    const confirm = await browse(jar, logout);
    assert.equal(confirm.status, 200);
    assert.equal(ctx.idp.counts.endSession, before + 1);
    const html = await confirm.text();
    assert.match(html, /<button id="logout" type="submit" form="op.logoutForm">/);
    assert.match(html, /getElementById\('op.logoutForm'\)\.submit\(\)/);
    // What the script submits: the form as it stands, with its XSRF token and logout=yes.
    const form = /<form id="op.logoutForm" method="post" action="([^"]+)">(.*?)<\/form>/.exec(html);
    assert.ok(form?.[1] && form[2]);
    const fields = new URLSearchParams(
      [...form[2].matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
    );
    assert.equal(fields.get('logout'), 'yes');
    const done = await browse(jar, form[1], { method: 'POST', body: fields });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), `${CLIENT.postLogoutRedirectUris?.[0]}?state=bye`);
    // The session is gone: signing in asks for the form again.
    const again = await follow(jar, authorizationRequest(ctx.d, CLIENT).url);
    assert.ok(again.html?.includes('id="login"'), 'the login form, not a code');
  });

  it('takes a groups claim name and an ID token lifetime of its own; stop() refuses connections', async () => {
    const idp = await startIdp({ users: [ALICE], clients: [CLIENT], groupsClaim: 'roles', idTokenTtlSeconds: 120 });
    try {
      const d = await discover(idp.issuer);
      const tokens = await redeemCode(d, CLIENT, await signIn(d, CLIENT, ALICE.id));
      const payload = decodeJwt(tokens.body.id_token ?? '');
      assert.deepEqual(payload.roles, ALICE.groups);
      assert.equal(payload.groups, undefined);
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 120);
      assert.equal(tokens.body.expires_in, 120);
    } finally {
      await idp.stop();
    }
    await idp.stop();
    await assert.rejects(fetch(`${idp.issuer}/.well-known/openid-configuration`), TypeError);
  });
});
