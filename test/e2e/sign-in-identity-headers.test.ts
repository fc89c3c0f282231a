// Identity headers for signed-in users (issue 17 point 5), through a real Envoy and a real provider: the upstream
// gets X-Pomerium-Jwt-Assertion naming the user the provider signed in (verified against the edge's JWKS) and the
// claim headers, each user their own; forged copies never arrive; and a policy mixing a sign-in criterion with a
// certificate one is decided by the ext_authz service from both.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { EdgeBrowser } from '../support/edge-browser.js';
import type { ClientResponse } from '../support/https-client.js';
import { browse, CookieJar, follow, loginFormAction } from '../support/oidc-idp-rp.js';
import { mintIdToken, startIdp, type StartedIdp } from '../support/oidc-idp.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { signInConfigHead } from '../support/sign-in-fixture.js';
import { startUpstream, type SeenRequest, type TestUpstream } from '../support/upstream.js';

const COOKIE_SECRET = Buffer.alloc(32, 9).toString('base64');
const CLIENT = { clientId: 'mtls-edge', clientSecret: 'edge-secret-5' };
const ALICE = { id: 'alice', email: 'alice@example.com', name: 'Alice Example', groups: ['admins', 'staff'] };
const BOB = { id: 'bob', email: 'bob@example.com', groups: ['staff'] };

const spkiHash = (pem: string) =>
  createHash('sha256')
    .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
/** Cookie names, and whether each value reads as a JWT (a token in clear) or not (opaque), never the values. */
const describeCookies = (header: string | undefined) =>
  (header ?? '')
    .split('; ')
    .filter((c) => c !== '')
    .map((c) => `${c.slice(0, c.indexOf('='))} (${/=eyJ[\w-]*\.eyJ[\w-]*\./.test(c) ? 'a JWT in clear' : 'opaque'})`)
    .join(', ') || 'none';
const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

describe('identity headers for signed-in users', () => {
  let pki: TestPki;
  let idp: StartedIdp;
  let upstream: TestUpstream;
  let edge: RunningEdge;
  let port: number;
  /** Another certificate of CA A: trusted, but not the one the mixed policy names. */
  let dave: ClientCert;

  before(async () => {
    pki = await createTestPki();
    port = await freePort();
    const issued = await issueClientCertificate(pki.caAuthority, { commonName: 'dave' });
    dave = { cert: issued.certPem, key: issued.keyPem };
    idp = await startIdp({
      users: [ALICE, BOB],
      clients: [
        { ...CLIENT, redirectUris: Object.values(HOSTS).map((h) => `https://${h}:${port}/.pomerium/callback`) },
      ],
    });
    upstream = await startUpstream('app');
    const yaml = [
      ...signInConfigHead(idp.issuer, CLIENT, COOKIE_SECRET),
      'jwt_claims_headers: [email, groups]',
      'routes:',
      // No client CA at all: the provider alone says who the user is.
      `  - from: https://${HOSTS.x}`,
      `    to: ${upstream.url}`,
      '    pass_identity_headers: true',
      '    allow_any_authenticated_user: true',
      // A sign-in criterion and one only the ext_authz service decides, together.
      `  - from: https://${HOSTS.y}`,
      `    to: ${upstream.url}`,
      '    tls_downstream_client_ca_file: ca-a.pem',
      '    pass_identity_headers: true',
      '    policy:',
      '      allow:',
      '        and:',
      '          - email: {is: alice@example.com}',
      `          - client_certificate: {spki_hash: "${spkiHash(pki.clientA.cert)}"}`,
    ].join('\n');
    edge = await startEdge({ dir: pki.dir, yaml, httpsPort: port });
  });
  after(async () => {
    await edge?.stop();
    await idp?.stop();
    await upstream?.close();
  });

  /** Signs `login` in through the edge at `host` and returns the page the browser lands on, at `path`. */
  async function signIn(browser: EdgeBrowser, host: string, path: string, login: string): Promise<ClientResponse> {
    const first = await browser.get(host, path);
    assert.equal(first.status, 302, `${first.body}\n${edge.output().slice(-3000)}`);
    const location = new URL(String(first.headers?.['location']));
    const jar = new CookieJar();
    const form = await follow(jar, location);
    const action = loginFormAction(form.html ?? '', location);
    const posted = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ login }) });
    const back = await follow(jar, new URL(posted.headers.get('location') ?? '', action));
    assert.ok(back.redirect, back.html);
    const callback = await browser.getUrl(back.redirect);
    assert.equal(callback.status, 302, `${callback.body}\n${edge.output().slice(-3000)}`);
    return browser.getUrl(new URL(String(callback.headers?.['location'])));
  }

  /** The last request the upstream saw for `path`. */
  function seen(path: string): SeenRequest {
    const found = upstream.seen.filter((r) => r.url === path).at(-1);
    assert.ok(found, `the upstream saw no request for ${path}`);
    return found;
  }

  /** The assertion the upstream got, verified as an upstream would: against the edge's published keys. */
  async function assertion(browser: EdgeBrowser, host: string, request: SeenRequest): Promise<JWTPayload> {
    const jwt = request.headers['x-pomerium-jwt-assertion'];
    assert.ok(typeof jwt === 'string', 'an X-Pomerium-Jwt-Assertion');
    const keys = await browser.get(host, '/.well-known/pomerium/jwks.json');
    assert.equal(keys.status, 200, keys.body);
    const jwks = createLocalJWKSet(JSON.parse(keys.body) as { keys: [] });
    const options = { issuer: host, audience: host, algorithms: ['ES256'] };
    return (await jwtVerify(jwt, jwks, options)).payload;
  }

  it('alice and bob each get their own assertion and claim headers', async (t) => {
    const alice = new EdgeBrowser(port, pki.caA);
    const page = await signIn(alice, HOSTS.x, '/alice', 'alice');
    assert.equal(page.status, 200, page.body);
    const request = seen('/alice');
    const payload = await assertion(alice, HOSTS.x, request);
    assert.equal(payload.sub, 'alice');
    assert.equal(payload['email'], 'alice@example.com');
    assert.equal(payload['name'], 'Alice Example');
    assert.deepEqual(payload['groups'], ['admins', 'staff']);
    assert.equal(payload['fingerprint'], undefined, 'no certificate on this route');
    assert.equal(request.headers['x-pomerium-claim-email'], 'alice@example.com');
    assert.equal(request.headers['x-pomerium-claim-groups'], 'admins,staff');
    assert.equal(request.headers['x-mtls-edge-id-token'], undefined, 'the ID token goes no further than Envoy');
    // What the session cookies become on the way (sign-in.ts, Envoy's oauth2 filter): reported, not judged here.
    t.diagnostic(`the browser's cookies: ${[...(alice.cookies.get(HOSTS.x)?.keys() ?? [])].join(', ')}`);
    t.diagnostic(`the upstream's Cookie: ${describeCookies(request.headers.cookie)}`);

    const bob = new EdgeBrowser(port, pki.caA);
    assert.equal((await signIn(bob, HOSTS.x, '/bob', 'bob')).status, 200);
    const bobs = seen('/bob');
    assert.equal((await assertion(bob, HOSTS.x, bobs)).sub, 'bob');
    assert.equal(bobs.headers['x-pomerium-claim-email'], 'bob@example.com');
    assert.equal(bobs.headers['x-pomerium-claim-groups'], 'staff');
    assert.notEqual(bobs.headers['x-pomerium-jwt-assertion'], request.headers['x-pomerium-jwt-assertion']);

    // Alice again, after Bob: still Alice.
    assert.equal((await alice.get(HOSTS.x, '/alice-again')).status, 200);
    assert.equal((await assertion(alice, HOSTS.x, seen('/alice-again'))).sub, 'alice');
  });

  it("a client's own identity headers, or ID token, never reach the upstream", async () => {
    const alice = new EdgeBrowser(port, pki.caA);
    assert.equal((await signIn(alice, HOSTS.x, '/start', 'alice')).status, 200);
    // A token the provider really signed, for Bob, in the header the edge hands the session's token over in.
    const bobsToken = await mintIdToken(idp.signingKeys()[0]!, {
      iss: idp.issuer,
      aud: CLIENT.clientId,
      sub: 'bob',
      email: 'bob@example.com',
    });
    const forged = {
      'x-pomerium-jwt-assertion': 'forged.assertion.jwt',
      'x-pomerium-claim-email': 'mallory@example.com',
      'x-pomerium-claim-groups': 'root',
      'x-mtls-edge-id-token': bobsToken,
    };
    assert.equal((await alice.get(HOSTS.x, '/forged', forged)).status, 200);
    const request = seen('/forged');
    assert.equal((await assertion(alice, HOSTS.x, request)).sub, 'alice');
    assert.equal(request.headers['x-pomerium-claim-email'], 'alice@example.com');
    assert.equal(request.headers['x-pomerium-claim-groups'], 'admins,staff');
    assert.equal(request.headers['x-mtls-edge-id-token'], undefined);
    const raw = request.rawHeaders.join('\n');
    for (const value of Object.values(forged)) assert.ok(!raw.includes(value), `forged ${value} arrived`);

    // Without a session, the forged token signs no one in: a script gets 401, and the upstream nothing.
    const stranger = new EdgeBrowser(port, pki.caA);
    const res = await stranger.get(HOSTS.x, '/stranger', { ...forged, accept: 'application/json' });
    assert.equal(res.status, 401, res.body);
    assert.equal(upstream.seen.filter((r) => r.url === '/stranger').length, 0);
  });

  it('a policy mixing the signed-in email with the certificate: decided from both', async () => {
    const alice = new EdgeBrowser(port, pki.caA, pki.clientA);
    const page = await signIn(alice, HOSTS.y, '/mixed', 'alice');
    assert.equal(page.status, 200, `${page.body}\n${edge.output().slice(-3000)}`);
    const payload = await assertion(alice, HOSTS.y, seen('/mixed'));
    assert.equal(payload.sub, 'alice');
    assert.equal(payload['fingerprint'], fingerprint(pki.clientA.cert));

    // Bob with Alice's certificate: the certificate holds, the sign-in does not (and Alice's allow is not his).
    const bob = new EdgeBrowser(port, pki.caA, pki.clientA);
    const bobs = await signIn(bob, HOSTS.y, '/mixed-bob', 'bob');
    assert.equal(bobs.status, 403, bobs.body);
    // Alice with another trusted certificate: the sign-in holds, the certificate does not.
    const other = new EdgeBrowser(port, pki.caA, dave);
    const daves = await signIn(other, HOSTS.y, '/mixed-dave', 'alice');
    assert.equal(daves.status, 403, daves.body);
    assert.deepEqual(
      upstream.seen.filter((r) => r.url.startsWith('/mixed-')),
      [],
      'neither reached the upstream',
    );
    // Alice again, on her certificate: allowed.
    assert.equal((await alice.get(HOSTS.y, '/mixed-again')).status, 200);
  });
});
