// The verify app's page is tidy (issue 15, point 1.5): times as dates with the raw value beside, long values folded,
// every value inert, readable on a phone.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startVerifyApp } from '../../../control-plane/src/demo/verify-app.js';
import { createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';

/** A JWT whose payload is `claims` (the app decodes without verifying, so the signature may be anything). */
const jwtOf = (claims: Record<string, unknown>) =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

// Bytes that would hide or reorder text on the page: NUL, ESC, DEL, a C1 control and a right-to-left override.
// eslint-disable-next-line no-control-regex -- the characters it looks for are controls
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('the verify page', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = await startVerifyApp('127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  const page = async (headers: Record<string, string>) => {
    const res = await fetch(`${base}/`, { headers: { accept: 'text/html', ...headers } });
    assert.equal(res.status, 200);
    return res.text();
  };

  it('shows iat, exp and nbf as UTC dates, the raw number beside; other numbers stay numbers', async () => {
    const html = await page({
      'x-pomerium-jwt-assertion': jwtOf({ iat: 1796300100, exp: 1796300400, nbf: 1796300100, count: 1796300100 }),
    });
    assert.match(
      html,
      /<th>exp<\/th><td><time datetime="2026-12-03T12:20:00\.000Z">2026-12-03 12:20:00 UTC<\/time> <span class="raw">\(1796300400\)<\/span><\/td>/,
    );
    assert.match(html, /<th>iat<\/th><td><time datetime="2026-12-03T12:15:00\.000Z">/);
    assert.match(html, /<th>nbf<\/th><td><time /);
    assert.match(html, /<th>count<\/th><td>1796300100<\/td>/);
    // A time claim that is not a usable number is shown as it is, not as a date (nor an error).
    const odd = await page({ 'x-pomerium-jwt-assertion': jwtOf({ exp: 1e300, iat: 'yesterday' }) });
    assert.match(odd, /<th>exp<\/th><td>1e\+300<\/td>/);
    assert.match(odd, /<th>iat<\/th><td>yesterday<\/td>/);
  });

  it("shows the forwarded certificate's validity as dates (JSON: ISO), and none without one", async () => {
    const ca = await createRootCa({ commonName: 'Verify CA' });
    const notBefore = new Date('2026-12-01T08:00:00Z');
    const notAfter = new Date('2027-12-01T08:00:00Z');
    const client = await issueClientCertificate(ca, { commonName: 'alice', notBefore, notAfter });
    const xfcc = `Hash=ab;Cert="${encodeURIComponent(client.certPem)}";Subject="CN=alice"`;
    const html = await page({ 'x-forwarded-client-cert': xfcc });
    assert.match(html, /<th>notBefore<\/th><td><time datetime="2026-12-01T08:00:00\.000Z">2026-12-01 08:00:00 UTC</);
    assert.match(html, /<th>notAfter<\/th><td><time datetime="2027-12-01T08:00:00\.000Z">2027-12-01 08:00:00 UTC</);
    const json = (await (
      await fetch(`${base}/`, { headers: { accept: 'application/json', 'x-forwarded-client-cert': xfcc } })
    ).json()) as { identity: Record<string, string | null> };
    assert.equal(json.identity['notBefore'], '2026-12-01T08:00:00.000Z');
    assert.equal(json.identity['notAfter'], '2027-12-01T08:00:00.000Z');
    assert.doesNotMatch(await page({}), /notBefore|notAfter/);
  });

  it('folds long values (the certificate, the JWT) into <details>, their start and length showing', async () => {
    const jwt = jwtOf({ email: 'alice@example.com', padding: 'p'.repeat(300) });
    const html = await page({ 'x-pomerium-jwt-assertion': jwt, 'x-short': 'short value' });
    const folded = new RegExp(
      `<th>x-pomerium-jwt-assertion</th><td><details><summary>${jwt.slice(0, 40)}… ` +
        `<small>\\(${jwt.length} characters\\)</small></summary><code>${jwt}</code></details></td>`,
    );
    assert.match(html, folded);
    assert.match(html, /<th>x-short<\/th><td>short value<\/td>/);
    // An empty value says so, rather than leaving a blank that reads as a missing row.
    assert.match(
      await page({ 'x-forwarded-client-cert': 'Hash=ab;URI=' }),
      /<th>uri<\/th><td><span class="none">\(empty\)<\/span><\/td>/,
    );
  });

  it('reads on a phone: viewport, a bounded width, values that break anywhere', async () => {
    const html = await page({});
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /main\{max-width:52rem/);
    assert.match(html, /td,code\{[^}]*overflow-wrap:anywhere/);
    assert.match(html, /@media \(max-width:40rem\)\{[^}]*\}th,td\{display:block/);
  });

  it('a header or claim holding markup, NUL, controls or a bidi override is shown inert and visible', async () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const html = await page({
      'x-pomerium-jwt-assertion': jwtOf({ email: `a\u0000b\u001b[31m\u202eevil`, user: evil }),
      // obs-text: a C1 control (CSI) and a quote, as raw bytes on the wire.
      'x-odd': `"\u009b${evil}`,
      [`x-${'long'.repeat(30)}`]: `${evil}${'x'.repeat(200)}`,
    });
    assert.ok(!/<script|<img/i.test(html), 'no markup from a value reaches the page');
    assert.ok(!INVISIBLE.test(html), 'no invisible or reordering character reaches the page');
    assert.match(html, /<h1>Hello, a\\u0000b\\u001b\[31m\\u202eevil<\/h1>/);
    assert.match(html, /<th>x-odd<\/th><td>&#34;\\u009b&#60;script&#62;alert\(1\)&#60;\/script&#62;&#60;img /);
    assert.match(html, /<summary>&#60;script&#62;alert\(1\)&#60;\/script&#62;&#60;img src=x oner… <small>/);
  });
});
