// Sign-in with an OpenID Connect provider (issue 17) in Chromium, through a real Envoy and a real provider
// (oidc-provider) on loopback: the redirect to the login form, the form filled in and sent, the way back through the
// callback, the session cookies as the browser keeps them, mTLS still first on a host that needs a certificate, and
// sign-out. sign-in.test.ts plays the same flow over node:https. The login page and the signed-in page are kept as
// PNGs in dist/test-artifacts/sign-in/.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../../control-plane/src/pki/index.js';
import { createPkcs12 } from '../../control-plane/src/pki/pkcs12.js';
import { ARTIFACTS, launchChromium } from '../support/chromium.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { startIdp, type StartedIdp } from '../support/oidc-idp.js';
import { freePort } from '../support/ports.js';
import { signInConfigHead } from '../support/sign-in-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const SHOTS = join(ARTIFACTS, 'sign-in');
const COOKIE_SECRET = Buffer.alloc(32, 9).toString('base64');
const CLIENT = { clientId: 'mtls-edge', clientSecret: 'edge-secret-1' };
const EMAIL = 'alice@example.com';
// A host without a client-certificate requirement: Chromium connects by itself and its resolver maps the name.
const OPEN_HOST = 'signin.test';
// A host whose route needs a client certificate. Playwright sends client certificates through its own connection,
// which resolves names itself: localhost resolves everywhere.
const MTLS_HOST = 'localhost';
const P12_PASSWORD = 'changeit';
// The session's cookies (cookie_name `_pomerium`): the HMAC, the expiry, the ID and refresh tokens.
// No access-token cookie: the edge never reads the access token (translate/http-filters/sign-in.ts).
const SESSION_COOKIES = ['_pomerium', '_pomerium_exp', '_pomerium_id', '_pomerium_rt'];

interface Hop {
  url: string;
  status: number;
}

describe('sign-in with an identity provider, in Chromium', () => {
  let port: number;
  let idp: StartedIdp;
  let upstream: TestUpstream;
  let edge: RunningEdge;
  let browser: Browser;
  let pfx: Buffer;
  const contexts: BrowserContext[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-sign-in-browser-'));
    const ca = await createRootCa({ commonName: 'Sign-in Browser Test CA' });
    const server = await issueServerCertificate(ca, { dnsNames: [OPEN_HOST, MTLS_HOST] });
    const client = await issueClientCertificate(ca, { commonName: 'alice', email: EMAIL });
    writeFileSync(join(dir, 'server.pem'), server.chainPem);
    writeFileSync(join(dir, 'server-key.pem'), server.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    // The CA rides along in the .p12: Playwright's own TLS connection (Node's) trusts the certificates a PKCS#12
    // carries besides the leaf, so it verifies the edge's certificate with ignoreHTTPSErrors false.
    pfx = await createPkcs12(client.keyPem, client.chainPem, [ca.certPem], { password: P12_PASSWORD });

    // Chromium first: without it the test fails before anything else starts. It verifies the edge's certificate
    // itself, trusting exactly this key (the flag needs a user data directory, which Playwright always gives it);
    // no certificate error is ignored.
    const spki = createHash('sha256')
      .update(createPublicKey(server.keyPem).export({ type: 'spki', format: 'der' }))
      .digest('base64');
    browser = await launchChromium([
      `--host-resolver-rules=MAP ${OPEN_HOST} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${spki}`,
    ]);

    port = await freePort();
    const hosts = [OPEN_HOST, MTLS_HOST];
    idp = await startIdp({
      users: [{ id: 'alice', email: EMAIL, groups: ['staff'] }],
      clients: [
        {
          ...CLIENT,
          redirectUris: hosts.map((host) => `https://${host}:${port}/.pomerium/callback`),
          postLogoutRedirectUris: hosts.map((host) => `https://${host}:${port}/`),
        },
      ],
    });
    upstream = await startUpstream('app');
    edge = await startEdge({
      dir,
      httpsPort: port,
      yaml: [
        ...signInConfigHead(idp.issuer, CLIENT, COOKIE_SECRET),
        'routes:',
        `  - from: https://${OPEN_HOST}`,
        `    to: ${upstream.url}`,
        '    policy:',
        '      allow:',
        '        or:',
        '          - domain: {is: example.com}',
        `  - from: https://${MTLS_HOST}`,
        `    to: ${upstream.url}`,
        '    tls_downstream_client_ca_file: ca.pem',
        '    policy:',
        '      allow:',
        '        and:',
        `          - email: {is: ${EMAIL}}`,
        `          - client_certificate: {san_email: {is: ${EMAIL}}}`,
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await edge?.stop();
    await idp?.stop();
    await upstream?.close();
  });

  const edgeLog = () => `\n--- edge log (last 6000 characters) ---\n${edge.output().slice(-6000)}`;

  /**
   * A page in a context of its own (cookies and IdP session apart). With the client certificate, Playwright's proxy
   * makes the TLS connection to the edge, sends the certificate and verifies the edge's (the CA in the .p12);
   * Chromium then sees only the proxy.
   */
  async function newPage(withCertificate: boolean): Promise<{ context: BrowserContext; page: Page; hops: Hop[] }> {
    const context = await browser.newContext({
      ignoreHTTPSErrors: false,
      ...(withCertificate
        ? { clientCertificates: [{ origin: `https://${MTLS_HOST}:${port}`, pfx, passphrase: P12_PASSWORD }] }
        : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    // Every answer the main frame navigated through, redirects included: what a failure shows.
    const hops: Hop[] = [];
    page.on('response', (res) => {
      if (res.request().isNavigationRequest() && res.frame() === page.mainFrame())
        hops.push({ url: res.url(), status: res.status() });
    });
    return { context, page, hops };
  }

  const trail = (hops: Hop[]) => hops.map((h) => `  ${h.status} ${h.url}`).join('\n');

  /** Runs `action` and waits until the main frame has loaded a URL that `done` accepts. */
  async function until(page: Page, hops: Hop[], action: () => Promise<unknown>, done: (url: URL) => boolean) {
    const from = hops.length;
    try {
      await Promise.all([page.waitForURL(done, { waitUntil: 'load' }), action()]);
    } catch (e) {
      const shown = await page.textContent('body').catch(() => null);
      assert.fail(
        `${(e as Error).message.split('\n')[0]}\nthe browser is at ${page.url()}, through:\n` +
          `${trail(hops.slice(from))}\nit shows: ${shown?.trim().slice(0, 500)}${edgeLog()}`,
      );
    }
    return hops.slice(from);
  }

  const atLoginForm = (url: URL) => url.origin === idp.issuer && url.pathname.startsWith('/interaction/');

  /** From `url` of the edge to the IdP's login form, then alice signs in and the browser comes back to `url`. */
  async function signIn(page: Page, hops: Hop[], url: string, shot?: string): Promise<void> {
    const asked = idp.counts.authorization;
    const out = await until(page, hops, () => page.goto(url), atLoginForm);
    assert.equal(out[0]?.url, url);
    assert.equal(out[0]?.status, 302, `the edge sends a browser to sign in:\n${trail(out)}${edgeLog()}`);
    assert.equal(new URL(page.url()).origin, idp.issuer, 'the login form is the IdP’s');
    assert.equal(idp.counts.authorization, asked + 1, 'one authorization request');
    await page.locator('#login').waitFor();
    if (shot) await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
    await page.fill('#login', 'alice');
    const back = await until(
      page,
      hops,
      () => page.click('#submit'),
      (u) => u.href === url,
    );
    const callback = back.find((h) => new URL(h.url).pathname === '/.pomerium/callback');
    assert.ok(callback, `back through the edge's callback:\n${trail(back)}`);
    assert.equal(new URL(callback.url).origin, new URL(url).origin, 'the callback is on the host and port signed in');
    assert.equal(callback.status, 302, `the callback sends the browser on:\n${trail(back)}${edgeLog()}`);
    const last = back.at(-1);
    assert.equal(last?.url, url);
    assert.equal(last?.status, 200, `signed in, the page:\n${trail(back)}${edgeLog()}`);
    assert.equal(await bodyText(page), `upstream app ${new URL(url).pathname}`);
  }

  /** Handshakes Envoy's listener refused because the client sent no certificate. */
  const noCertificateRefusals = async () =>
    Object.entries(await edge.envoyStats('listener.'))
      .filter(([name]) => name.endsWith('.ssl.fail_verify_no_cert'))
      .reduce((sum, [, n]) => sum + n, 0);

  const bodyText = async (page: Page) => (await page.textContent('body'))?.trim();

  it('the full browser flow in Chromium', async (t) => {
    const open = `https://${OPEN_HOST}:${port}`;
    const { context, page, hops } = await newPage(false);

    await t.test('a host without a client certificate: sign in, come back signed in, stay signed in', async () => {
      await signIn(page, hops, `${open}/hello`, 'login.png');
      await page.screenshot({ path: join(SHOTS, 'signed-in.png'), fullPage: true });

      const cookies = (await context.cookies(open)).filter((c) => c.name.startsWith('_pomerium'));
      const names = cookies.map((c) => c.name);
      for (const name of SESSION_COOKIES) assert.ok(names.includes(name), `${name} is set: ${names.join(', ')}`);
      for (const c of cookies) {
        assert.equal(c.secure, true, `${c.name} is Secure`);
        assert.equal(c.httpOnly, true, `${c.name} is HttpOnly`);
        assert.equal(c.domain, OPEN_HOST, `${c.name} is for this host only`);
      }
      assert.equal(await page.evaluate(() => document.cookie), '', 'no session cookie is visible to scripts');

      const asked = idp.counts.authorization;
      const from = hops.length;
      const again = await page.goto(`${open}/hello`);
      assert.equal(again?.status(), 200, trail(hops.slice(from)));
      assert.deepEqual(
        hops.slice(from).map((h) => h.status),
        [200],
        'straight to the page, no redirect',
      );
      assert.equal(await bodyText(page), 'upstream app /hello');
      assert.equal(idp.counts.authorization, asked, 'the IdP is not asked again');
    });

    await t.test('a host that needs a client certificate: mTLS first, then sign-in', async () => {
      const mtls = `https://${MTLS_HOST}:${port}`;
      const withCert = await newPage(true);
      await signIn(withCert.page, withCert.hops, `${mtls}/hello`);

      const asked = idp.counts.authorization;
      // Only /hello: the signed-in page's favicon request may still be on its way to the upstream.
      const reached = () => upstream.seen.filter((r) => r.url === '/hello').length;
      const reachedBefore = reached();
      const refused = await noCertificateRefusals();
      const without = await newPage(false);
      const error = await without.page.goto(`${mtls}/hello`).then(
        (res) => new Error(`the navigation was answered: ${res?.status()} ${without.page.url()}`),
        (e: Error) => e,
      );
      assert.match(
        error.message,
        /net::ERR_(BAD_SSL_CLIENT_AUTH_CERT|SSL_PROTOCOL_ERROR|CONNECTION_CLOSED|CONNECTION_RESET|SOCKET_NOT_CONNECTED)/,
        'the TLS handshake is refused without a certificate',
      );
      assert.deepEqual(without.hops, [], 'no HTTP answer at all');
      assert.ok((await noCertificateRefusals()) > refused, 'Envoy refused a handshake without a certificate');
      assert.equal(idp.counts.authorization, asked, 'the IdP was never asked');
      assert.equal(reached(), reachedBefore, 'nor the upstream');
    });

    await t.test('sign-out ends the session at the edge and at the IdP', async () => {
      const ended = idp.counts.endSession;
      const out = await until(
        page,
        hops,
        () => page.goto(`${open}/.pomerium/sign_out`),
        // The IdP's logout page signs out by itself and the IdP sends the browser back to the edge's `/`, which
        // needs sign-in again: the login form.
        atLoginForm,
      );
      assert.equal(out[0]?.status, 302, `sign-out redirects:\n${trail(out)}${edgeLog()}`);
      const logout = new URL(out[1]?.url ?? '');
      assert.equal(`${logout.origin}${logout.pathname}`, `${idp.issuer}/session/end`, trail(out));
      assert.ok(idp.counts.endSession > ended, 'the IdP was asked to end its session');
      assert.ok(
        out.some((h) => h.url === `${open}/` && h.status === 302),
        `back to the edge's / after the IdP's logout, which asks for sign-in again:\n${trail(out)}`,
      );
      const left = (await context.cookies(open)).map((c) => c.name);
      for (const name of SESSION_COOKIES) assert.ok(!left.includes(name), `${name} is gone: ${left.join(', ')}`);

      // The login form, not a way straight back: the IdP's session ended too.
      const asked = idp.counts.authorization;
      await until(page, hops, () => page.goto(`${open}/hello`), atLoginForm);
      assert.ok(await page.locator('#login').isVisible(), 'the login form shows again');
      assert.equal(idp.counts.authorization, asked + 1);
    });
  });
});
