// Every page a person can meet, in Chromium through a real Envoy, at a desktop and a phone size (issue 15): the verify
// app's greeting and the edge's 403, 404, 421 and 495. Each is checked (status, heading, no sideways scrolling) and
// kept as a PNG in dist/test-artifacts/pages/ for people to look at.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { startVerifyApp } from '../../control-plane/src/demo/verify-app.js';
import { ARTIFACTS, launchChromium } from '../support/chromium.js';
import { runCli, startEdge, type RunningEdge } from '../support/edge.js';

const PAGES_DIR = join(ARTIFACTS, 'pages');
// Playwright sends client certificates through its own connection, which resolves names itself: localhost resolves
// everywhere.
const HOST = 'localhost';
// A name the edge has no route for. Chromium's own resolver sends it to the edge (a context without client
// certificates connects by itself), so SNI and Host both name a host the edge does not serve.
const ELSEWHERE = 'elsewhere.test';
const EMAIL = 'alice@example.com';

const SIZES = {
  desktop: { viewport: { width: 1280, height: 800 } },
  // A phone honours the page's viewport meta; without one it would lay the page out 980 pixels wide.
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
} satisfies Record<string, BrowserContextOptions>;

interface PageCase {
  name: string;
  path: string;
  host?: string;
  withCertificate: boolean;
  status: number;
  heading: RegExp;
}

const CASES: PageCase[] = [
  { name: 'verify', path: '/', withCertificate: true, status: 200, heading: /^Hello, alice@example\.com$/ },
  { name: '403', path: '/admin', withCertificate: true, status: 403, heading: /^Access denied$/ },
  { name: '404', path: '/nowhere', withCertificate: true, status: 404, heading: /^Not found$/ },
  { name: '421', path: '/', host: ELSEWHERE, withCertificate: false, status: 421, heading: /^Misdirected request$/ },
  {
    name: '495',
    path: '/',
    withCertificate: false,
    status: 495,
    heading: /^A valid client certificate is required$/,
  },
];

describe('every page in Chromium through the edge, on a desktop and a phone, kept as PNGs', () => {
  let dir: string;
  let app: Server;
  let edge: RunningEdge;
  let browser: Browser;

  before(async () => {
    mkdirSync(PAGES_DIR, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-pages-'));
    for (const args of [['ca'], ['server', HOST], ['client', EMAIL]]) {
      const res = await runCli(['certs', ...args, '--dir', join(dir, 'certs')]);
      assert.equal(res.code, 0, res.stderr);
    }
    app = await startVerifyApp('127.0.0.1', 0);
    const upstream = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    edge = await startEdge({
      dir,
      yaml: [
        `certificate_file: certs/${HOST}.pem`,
        `certificate_key_file: certs/${HOST}-key.pem`,
        // The whole certificate and the JWT travel, so the verify page shows its longest values.
        'forward_client_cert: [subject, uri, dns, cert]',
        'jwt_claims_headers: [email, user]',
        'downstream_mtls:',
        '  ca_file: certs/ca.pem',
        '  enforcement: policy_with_default_deny',
        'routes:',
        `  - from: https://${HOST}`,
        `    to: ${upstream}`,
        '    path: /',
        '    pass_identity_headers: true',
        '    allow_any_authenticated_user: true',
        `  - from: https://${HOST}`,
        `    to: ${upstream}`,
        '    prefix: /admin',
        '    policy:',
        '      allow:',
        '        or:',
        '          - email: { is: bob@example.com }',
        '',
      ].join('\n'),
    });
    browser = await launchChromium([`--host-resolver-rules=MAP ${ELSEWHERE} 127.0.0.1`]);
  });
  after(async () => {
    await browser?.close();
    await edge?.stop();
    await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
  });

  async function visit(c: PageCase, size: keyof typeof SIZES, check: (page: Page) => Promise<void>): Promise<void> {
    const url = `https://${c.host ?? HOST}:${edge.httpsPort}${c.path}`;
    const pfxPath = join(dir, 'certs', `${EMAIL}-client.p12`);
    const context = await browser.newContext({
      ...SIZES[size],
      ignoreHTTPSErrors: true,
      ...(c.withCertificate
        ? { clientCertificates: [{ origin: new URL(url).origin, pfxPath, passphrase: 'changeit' }] }
        : {}),
    });
    try {
      const page = await context.newPage();
      const res = await page.goto(url);
      assert.equal(res?.status(), c.status, `${c.name} on a ${size}`);
      assert.match(((await page.textContent('h1')) ?? '').trim(), c.heading);
      const { scrollWidth, innerWidth } = await widths(page);
      assert.ok(scrollWidth <= innerWidth, `${c.name} on a ${size} scrolls sideways: ${scrollWidth} > ${innerWidth}`);
      await check(page);
      await page.screenshot({ path: join(PAGES_DIR, `${c.name}-${size}.png`), fullPage: true });
    } finally {
      await context.close();
    }
  }

  for (const size of Object.keys(SIZES) as Array<keyof typeof SIZES>) {
    for (const c of CASES) {
      it(`${c.name} on a ${size}: status ${c.status}, its heading, no sideways scrolling`, () =>
        visit(c, size, async (page) => {
          if (c.name === 'verify') return checkVerifyPage(page, size);
          // The edge's own pages name their status above the heading.
          assert.equal((await page.textContent('.status'))?.trim(), String(c.status));
        }));
    }
  }
});

/** The greeting shows dates as dates and keeps the certificate and the JWT folded until asked, then wraps them. */
async function checkVerifyPage(page: Page, size: string): Promise<void> {
  const cell = (name: string) => page.locator('tr', { has: page.locator(`th:text-is("${name}")`) }).locator('td');
  assert.match(await cell('exp').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+\)$/);
  assert.match(await cell('notAfter').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  for (const header of ['x-forwarded-client-cert', 'x-pomerium-jwt-assertion']) {
    const details = cell(header).locator('details');
    assert.equal(await details.getAttribute('open'), null, `${header} is folded`);
    assert.match(await details.locator('summary').innerText(), /… \(\d+ characters\)$/);
    assert.equal(await details.locator('code').isVisible(), false);
  }
  const certificate = cell('x-forwarded-client-cert');
  await certificate.locator('summary').click();
  assert.ok(await certificate.locator('code').isVisible(), 'a click unfolds the certificate');
  assert.match(await certificate.locator('code').innerText(), /BEGIN%20CERTIFICATE/);
  const { scrollWidth, innerWidth } = await widths(page);
  assert.ok(scrollWidth <= innerWidth, `the unfolded certificate scrolls sideways: ${scrollWidth} > ${innerWidth}`);
  await certificate.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(PAGES_DIR, `verify-unfolded-${size}.png`) });
  await certificate.locator('summary').click();
}

/** The page's width and the window's: a page wider than its window scrolls sideways. */
const widths = (page: Page) =>
  page.evaluate(() => ({
    scrollWidth: document.scrollingElement?.scrollWidth ?? Infinity,
    innerWidth: window.innerWidth,
  }));
