// Sign-in with an OpenID Connect provider (issue 17), through a real Envoy and a real provider (oidc-provider) on
// loopback: the redirect, the login form, the callback, the session cookies, and what the policy reads of the ID
// token. The browser's part is played over node:https (test/support/edge-browser.ts); sign-in-browser.test.ts runs
// the same flow in Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { EdgeBrowser } from '../support/edge-browser.js';
import { browse, CookieJar, follow, loginFormAction } from '../support/oidc-idp-rp.js';
import { startIdp, type StartedIdp } from '../support/oidc-idp.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const COOKIE_SECRET = Buffer.alloc(32, 7).toString('base64');
const CLIENT = { clientId: 'mtls-edge', clientSecret: 'edge-secret-1' };

describe('sign-in with an identity provider, decided inside Envoy', () => {
  let pki: TestPki;
  let idp: StartedIdp;
  let upstream: TestUpstream;
  let edge: RunningEdge;
  let port: number;

  before(async () => {
    pki = await createTestPki();
    port = await freePort();
    const callback = (host: string) => `https://${host}:${port}/.pomerium/callback`;
    idp = await startIdp({
      users: [
        { id: 'alice', email: 'alice@example.com', groups: ['admins'] },
        { id: 'bob', email: 'bob@other.example', groups: ['staff'] },
      ],
      clients: [{ ...CLIENT, redirectUris: Object.values(HOSTS).map(callback) }],
    });
    upstream = await startUpstream('app');
    const yaml = [
      'certificate_file: server.pem',
      'certificate_key_file: server-key.pem',
      `idp_provider_url: ${idp.issuer}`,
      `idp_client_id: ${CLIENT.clientId}`,
      `idp_client_secret: ${CLIENT.clientSecret}`,
      'idp_scopes: openid email profile groups',
      `cookie_secret: ${COOKIE_SECRET}`,
      'routes:',
      `  - from: https://${HOSTS.x}`,
      `    to: ${upstream.url}`,
      '    policy:',
      '      allow:',
      '        or:',
      '          - domain: {is: example.com}',
    ].join('\n');
    edge = await startEdge({ dir: pki.dir, yaml, httpsPort: port, env: { LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    await edge?.stop();
    await idp?.stop();
    await upstream?.close();
  });

  it('a browser is sent to sign in, and comes back signed in', async () => {
    const browser = new EdgeBrowser(port, pki.caA);
    const first = await browser.get(HOSTS.x, '/hello');
    assert.equal(first.status, 302, `${first.body}\n${edge.output().slice(-4000)}`);
    const location = new URL(String(first.headers?.['location']));
    assert.equal(location.origin, idp.issuer);
    const jar = new CookieJar();
    const login = await follow(jar, location);
    assert.ok(login.page, 'the login form');
    const action = loginFormAction(login.html ?? '', location);
    const posted = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login: 'alice' }) });
    const back = await follow(jar, new URL(posted.headers.get('location') ?? '', action));
    assert.ok(back.redirect, back.html);
    const callback = await browser.getUrl(back.redirect);
    assert.equal(callback.status, 302, `${callback.body}\n${edge.output().slice(-4000)}`);
    const page = await browser.getUrl(new URL(String(callback.headers?.['location'])));
    assert.equal(page.status, 200, `${page.body}\n${edge.output().slice(-4000)}`);
  });
});
