import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { decodeJwtPayload, JWKS_PATH, startVerifyApp } from '../../../control-plane/src/demo/verify-app.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'test' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti('j-1')
    .sign(privateKey);

const ALICE = {
  iss: 'verify.localhost.pomerium.io',
  aud: 'verify.localhost.pomerium.io',
  sub: 'alice',
  email: 'alice@example.com',
  user: 'alice',
  domain: 'example.com',
  fingerprint: 'ab'.repeat(32),
  subject: 'CN=alice',
  san_email: ['alice@example.com'],
};

describe('the verify app shows the identity the edge asserts', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = await startVerifyApp('127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  const get = (accept: string, headers: Record<string, string>) =>
    fetch(`${base}/hello?x=1`, { headers: { accept, ...headers } });

  it(
    'JSON: the decoded JWT claims (marked unverified, with ' + 'the JWKS path) and the X-Pomerium-Claim-* headers',
    async () => {
      const jwt = await sign(ALICE);
      const res = await get('application/json', {
        'x-pomerium-jwt-assertion': jwt,
        'x-pomerium-claim-email': 'alice@example.com',
        'x-pomerium-claim-user': 'alice',
        'x-client-email': 'old@example.com',
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        identity: Record<string, string | null>;
        assertion: { verified: boolean; jwks: string; claims: Record<string, unknown> };
        claimHeaders: Record<string, string>;
        path: string;
      };
      assert.equal(body.identity['email'], 'alice@example.com', 'the claim header wins over x-client-email');
      assert.equal(body.identity['user'], 'alice');
      assert.equal(body.identity['fingerprint'], 'ab'.repeat(32));
      assert.equal(body.identity['subject'], 'CN=alice');
      assert.equal(body.assertion.verified, false);
      assert.equal(body.assertion.jwks, JWKS_PATH);
      assert.equal(body.assertion.claims['email'], 'alice@example.com');
      assert.deepEqual(body.assertion.claims['san_email'], ['alice@example.com']);
      assert.equal(body.assertion.claims['jti'], 'j-1');
      assert.equal(typeof body.assertion.claims['exp'], 'number');
      assert.deepEqual(body.claimHeaders, {
        'x-pomerium-claim-email': 'alice@example.com',
        'x-pomerium-claim-user': 'alice',
      });
      assert.equal(body.path, '/hello?x=1');
    },
  );

  it('identity.email: the claim header, else the JWT email, else the older X-Client-Email', async () => {
    const email = async (headers: Record<string, string>) =>
      ((await (await get('application/json', headers)).json()) as { identity: { email: string | null } }).identity
        .email;
    const jwt = await sign(ALICE);
    assert.equal(
      await email({
        'x-pomerium-claim-email': 'claim@example.com',
        'x-pomerium-jwt-assertion': jwt,
        'x-client-email': 'old@example.com',
      }),
      'claim@example.com',
    );
    assert.equal(
      await email({ 'x-pomerium-jwt-assertion': jwt, 'x-client-email': 'old@example.com' }),
      'alice@example.com',
    );
    assert.equal(await email({ 'x-client-email': 'old@example.com' }), 'old@example.com');
    assert.equal(await email({}), null);
  });

  it('HTML: shows the claims with the JWKS hint, and escapes a <script> claim everywhere', async () => {
    const evil = '<script>alert(1)</script>';
    const jwt = await sign({ ...ALICE, email: evil, user: `"${evil}` });
    const res = await get('text/html', {
      'x-pomerium-jwt-assertion': jwt,
      'x-pomerium-claim-email': evil,
      'x-pomerium-claim-user': 'alice',
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /text\/html/);
    const html = await res.text();
    assert.ok(!html.includes('<script'), 'no <script> reaches the page unescaped');
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.match(html, /<h1>Hello, &#60;script&#62;/);
    assert.match(html, /verify it with the JWKS at <a href="\/\.well-known\/pomerium\/jwks\.json">/);
    assert.match(html, /<th>x-pomerium-claim-user<\/th><td>alice<\/td>/);
    assert.match(html, /<th>fingerprint<\/th><td>(ab){32}<\/td>/);
    assert.match(html, /<th>san_email<\/th><td>alice@example\.com<\/td>/);
  });

  it('without identity headers it says so; a header that is not a JWT is not decoded', async () => {
    const html = await (await get('text/html', {})).text();
    assert.match(html, /<h1>No client identity<\/h1>/);
    assert.match(html, /No X-Pomerium-Jwt-Assertion header/);
    const body = (await (await get('application/json', { 'x-pomerium-jwt-assertion': 'forged' })).json()) as {
      assertion: { claims: unknown };
    };
    assert.equal(body.assertion.claims, null);
    assert.equal(decodeJwtPayload('a.!!!.c'), undefined);
    assert.equal(decodeJwtPayload(`a.${Buffer.from('[1]').toString('base64url')}.c`), undefined);
    assert.deepEqual(decodeJwtPayload(`a.${Buffer.from('{"sub":"x"}').toString('base64url')}.c`), { sub: 'x' });
  });
});
