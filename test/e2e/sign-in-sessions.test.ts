// What a sign-in session survives and what it does not (issue 17): forged and tampered cookies and headers, a
// replayed callback, a state naming another site, sign-out, an expired ID token, a token for another audience or
// signed by a key the edge does not know (the provider rotated its keys), the provider down at a reload, and the
// secrets kept out of every log and dump. One edge, one provider; each test signs in afresh.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintIdToken } from '../support/oidc-idp.js';
import { HOSTS } from '../support/pki-fixture.js';
import {
  callbackUrl,
  CLIENT,
  COOKIE_SECRET,
  OTHER_CLIENT,
  signInAs,
  startSignInEdge,
  type SignInEdge,
} from '../support/sign-in-fixture.js';

const ROUTES = (upstream: string) =>
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    prefix: /admins\n` +
  '    policy: {allow: {or: [{groups: {has: admins}}]}}\n' +
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    allow_any_authenticated_user: true\n`;
const NON_BROWSER = { accept: '*/*' };

describe('sign-in sessions: what is refused, and what the edge keeps to itself', () => {
  let s: SignInEdge;
  let dave: ReturnType<SignInEdge['browser']>;
  let daveSignedInAt = 0;

  /** Rewrites the config (the routes, and the head with `change` applied) and waits for every Envoy to have it. */
  const edit = async (change: (head: string[]) => string[] = (h) => h, routes = s.routes) => {
    const before = await s.edge.status();
    s.edge.writeConfig(`${change([...s.head]).join('\n')}\nroutes:\n${routes}`);
    return s.edge.waitForStatus(
      (st) => (st.reload.reloads > before.reload.reloads || st.reload.failures > before.reload.failures) && st.synced,
      30_000,
    );
  };
  interface ProviderErrors {
    reload: { identityProviderErrors?: Array<{ key: string; text: string }> };
  }
  const adminStatus = async () => (await (await fetch(`${s.edge.adminUrl}/status`)).json()) as ProviderErrors;

  before(async () => {
    s = await startSignInEdge({ routes: ROUTES });
    // Dave's ID token lives 1 s; the last test uses it once the edge's 10 s of clock skew are over.
    dave = s.browser();
    assert.equal((await signInAs(dave, s, HOSTS.x, '/', 'dave')).status, 200);
    daveSignedInAt = Date.now();
  });
  after(async () => {
    await s?.stop();
  });

  it('a tampered session cookie is no session: sign in again (401 for a script)', async () => {
    const browser = s.browser();
    assert.equal((await signInAs(browser, s, HOSTS.x, '/', 'alice')).status, 200);
    for (const name of ['_pomerium', '_pomerium_id', '_pomerium_exp', '_pomerium_rt']) {
      // Without the refresh token (else Envoy would refresh the session with it, which is what it is for), unless
      // that is the cookie tampered with.
      const copy = s.browser();
      for (const [k, v] of browser.cookies.get(HOSTS.x) ?? [])
        if (k !== '_pomerium_rt' || name === '_pomerium_rt') copy.setCookie(HOSTS.x, k, v);
      const value = copy.cookie(HOSTS.x, name);
      assert.ok(value, `the session has a ${name} cookie`);
      const flipped = value.slice(0, 5) + (value[5] === 'A' ? 'B' : 'A') + value.slice(6);
      copy.setCookie(HOSTS.x, name, name === '_pomerium_exp' ? String(Number(value) + 3600) : flipped);
      assert.equal((await copy.get(HOSTS.x, '/', NON_BROWSER)).status, 401, name);
      const asBrowser = await copy.get(HOSTS.x, '/');
      assert.equal(asBrowser.status, 302, name);
      assert.equal(new URL(String(asBrowser.headers?.['location'])).origin, s.idp.issuer);
    }
  });

  it('an ID token sent in a header, even one the provider signed, is no session and no identity', async () => {
    const key = s.idp.signingKeys()[0]!;
    const token = await mintIdToken(key, {
      iss: s.idp.issuer,
      aud: CLIENT.clientId,
      sub: 'carol',
      email: 'carol@other.example',
      groups: ['admins'],
    });
    for (const header of ['x-mtls-edge-id-token', 'authorization']) {
      const value = header === 'authorization' ? `Bearer ${token}` : token;
      assert.equal((await s.browser().get(HOSTS.x, '/admins', { ...NON_BROWSER, [header]: value })).status, 401);
    }
    // Bob is signed in but not an admin: a forged token beside his session changes nothing.
    const bob = s.browser();
    assert.equal((await signInAs(bob, s, HOSTS.x, '/', 'bob')).status, 200);
    assert.equal((await bob.get(HOSTS.x, '/admins', { 'x-mtls-edge-id-token': token })).status, 403);
  });

  it('a callback replayed (its code and state) makes no session', async () => {
    const browser = s.browser();
    const callback = await callbackUrl(browser, s, HOSTS.x, '/replayed', 'alice');
    const first = await browser.getUrl(callback);
    assert.equal(first.status, 302, 'the first use signs in');
    // Again in the same browser, and in another one (which has not the flow's nonce cookie).
    for (const replay of [browser, s.browser()]) {
      const res = await replay.getUrl(callback, NON_BROWSER);
      assert.notEqual(res.status, 302, 'no new session from a used code');
      assert.equal(res.status, 401, res.body);
      assert.doesNotMatch(String(res.headers?.['set-cookie'] ?? ''), /_pomerium_id=[^;]/);
    }
  });

  it("a callback's state returns only to the edge's own hosts, even with the flow's nonce cookie planted", async () => {
    // The attacker starts a flow and keeps its nonce; a signed-in victim is made to carry that nonce cookie and to
    // open a callback whose state (the browser's to carry) names another site.
    const attacker = s.browser();
    assert.equal((await attacker.get(HOSTS.x, '/')).status, 302);
    const csrf = attacker.cookie(HOSTS.x, '_pomerium_csrf');
    assert.ok(csrf, 'the flow set its nonce cookie');
    const victim = s.browser();
    assert.equal((await signInAs(victim, s, HOSTS.x, '/', 'alice')).status, 200);
    const session = [...(victim.cookies.get(HOSTS.x) ?? [])].map(([k, v]) => `${k}=${v}`);
    const callback = (url: string) => {
      const state = Buffer.from(JSON.stringify({ url, csrf_token: csrf })).toString('base64url');
      return victim.get(HOSTS.x, `/.pomerium/callback?code=x&state=${state}`, {
        cookie: [...session, `_pomerium_csrf=${csrf}`].join('; '),
      });
    };
    // The planted nonce holds: a page of the edge's own is where the callback sends the victim.
    const own = await callback(`https://${HOSTS.x}:${s.port}/own`);
    assert.equal(own.status, 302, own.body);
    assert.equal(own.headers?.['location'], `https://${HOSTS.x}:${s.port}/own`);
    // Another site's is refused.
    const evil = await callback('https://evil.example/phish');
    assert.equal(evil.status, 401, evil.body);
    assert.equal(evil.headers?.['location'], undefined);
  });

  it('sign-out clears the session and ends it at the provider', async () => {
    const browser = s.browser();
    assert.equal((await signInAs(browser, s, HOSTS.x, '/', 'alice')).status, 200);
    const out = await browser.get(HOSTS.x, '/.pomerium/sign_out');
    assert.equal(out.status, 302);
    const location = new URL(String(out.headers?.['location']));
    assert.equal(`${location.origin}${location.pathname}`, `${s.idp.issuer}/session/end`);
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `https://${HOSTS.x}:${s.port}/`);
    assert.equal(browser.cookie(HOSTS.x, '_pomerium'), undefined, 'the session cookie is cleared');
    assert.equal((await browser.get(HOSTS.x, '/')).status, 302, 'signed out: sign in again');
  });

  it('a session for another client (audience) is refused once the edge is that client no more', async () => {
    const alice = s.browser();
    assert.equal((await signInAs(alice, s, HOSTS.x, '/', 'alice')).status, 200);
    const other = (head: string[]) =>
      head.map((l) =>
        l.startsWith('idp_client_id:')
          ? `idp_client_id: ${OTHER_CLIENT.clientId}`
          : l.startsWith('idp_client_secret:')
            ? `idp_client_secret: ${OTHER_CLIENT.clientSecret}`
            : l,
      );
    await edit(other);
    try {
      const refused = await alice.get(HOSTS.x, '/');
      assert.equal(refused.status, 401, 'the token names another audience');
      assert.match(refused.body, /<h1>Sign in again<\/h1>/);
      assert.match(refused.body, /Audiences in Jwt are not allowed/);
      assert.equal((await signInAs(s.browser(), s, HOSTS.x, '/', 'alice')).status, 200, 'a new sign-in works');
    } finally {
      await edit();
    }
  });

  it('the provider rotates its keys: a token signed by an unknown key is refused until the edge has it', async () => {
    const alice = s.browser();
    assert.equal((await signInAs(alice, s, HOSTS.x, '/', 'alice')).status, 200);
    await s.idp.rotateKeys({ keepOld: false });
    const bob = s.browser();
    assert.equal((await signInAs(bob, s, HOSTS.x, '/', 'bob')).status, 401, 'signed by an unknown key');
    // A reload reads the provider again (so does idp_refresh_interval, every 5 minutes by default).
    await edit((h) => [...h, '# reload']);
    assert.equal((await bob.get(HOSTS.x, '/')).status, 200, 'the new key is known');
    assert.equal((await alice.get(HOSTS.x, '/', NON_BROWSER)).status, 401, 'the dropped key signs nothing any more');
  });

  it('the provider down at a reload: the edit applies, sign-in goes on with what the provider said last', async () => {
    await s.idp.pause();
    try {
      const added = `${s.routes}  - from: https://${HOSTS.z}\n    to: ${s.upstream.url}\n    allow_public_unauthenticated_access: true\n`;
      const status = await edit(undefined, added);
      assert.equal(status.reload.errors.length, 0);
      assert.equal((await s.browser().get(HOSTS.z, '/', NON_BROWSER)).status, 200, 'the edit applied');
      const redirect = await s.browser().get(HOSTS.x, '/');
      assert.equal(redirect.status, 302);
      assert.equal(new URL(String(redirect.headers?.['location'])).origin, s.idp.issuer);
      const errors = (await adminStatus()).reload.identityProviderErrors ?? [];
      assert.equal(errors[0]?.key, 'idp_provider_url');
      assert.match(errors[0].text, /connection refused/);
      // Another provider that cannot be read: that edit is refused, the last good config keeps serving.
      const refused = await edit((h) =>
        h.map((l) => (l.startsWith('idp_provider_url:') ? 'idp_provider_url: http://127.0.0.1:9/' : l)),
      );
      assert.equal(refused.reload.errors[0]?.key, 'idp_provider_url');
      assert.match(
        refused.reload.errors[0].text,
        /cannot read http:\/\/127\.0\.0\.1:9\/\.well-known\/openid-configuration/,
      );
      assert.equal((await s.browser().get(HOSTS.z, '/', NON_BROWSER)).status, 200, 'still the last good config');
    } finally {
      await s.idp.resume();
      await edit();
    }
  });

  it('the client secret and the cookie secret appear in no log, status or Envoy dump', async () => {
    const dump = await (await fetch(`${s.edge.envoyAdminUrl}/config_dump?include_eds`)).text();
    assert.match(dump, /idp-client-secret/);
    assert.match(dump, /idp-cookie-secret/);
    const status = JSON.stringify(await adminStatus());
    for (const secret of [CLIENT.clientSecret, OTHER_CLIENT.clientSecret, COOKIE_SECRET]) {
      for (const [where, text] of [
        ['the log', s.edge.output()],
        ['/status', status],
        ['the config dump', dump],
      ] as const)
        assert.equal(text.includes(secret), false, `${where} shows a secret`);
    }
  });

  it('an expired ID token is refused, whatever its cookie says', async () => {
    // Past its expiry (1 s) and the edge's clock skew (10 s).
    const wait = daveSignedInAt + 12_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    assert.equal((await dave.get(HOSTS.x, '/', NON_BROWSER)).status, 401);
    // Refused by the token check (the session's cookies themselves are still good): the page says why.
    const page = await dave.get(HOSTS.x, '/');
    assert.equal(page.status, 401);
    assert.match(page.body, /<h1>Sign in again<\/h1>/);
    assert.match(page.body, /Jwt is expired/);
  });
});
