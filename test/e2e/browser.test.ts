import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startVerifyApp } from '../../control-plane/src/demo/verify-app.js';
import { runCli, startEdge, type RunningEdge } from '../support/edge.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
// Screenshots land here for people to look at (CI keeps the folder as an artifact).
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
// Playwright sends client certificates through its own connection, which resolves names itself: localhost resolves
// everywhere.
const HOST = 'localhost';

/** Tests that claim browser behaviour fail, never skip, without a browser. */
function requireChromium(): string {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return CHROMIUM;
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: run \`bash scripts/install-browser.sh\` (Debian, as root; \`npm test\` ` +
        'runs it), or set CHROMIUM_PATH to a Chromium or Chrome binary',
    );
  }
}

describe('a real browser (Chromium) with the .p12 from `mtls-edge certs client`', () => {
  let dir: string;
  let app: Server;
  let browser: Browser;
  const edges: RunningEdge[] = [];

  before(async () => {
    const executablePath = requireChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-browser-'));
    for (const args of [['ca'], ['server', HOST], ['client', 'alice@example.com']]) {
      const res = await runCli(['certs', ...args, '--dir', join(dir, 'certs')]);
      assert.equal(res.code, 0, res.stderr);
    }
    app = await startVerifyApp('127.0.0.1', 0);
    browser = await chromium.launch({
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    for (const e of edges) await e.stop();
    app?.close();
  });

  async function edgeWith(enforcement: string): Promise<string> {
    const appPort = (app.address() as AddressInfo).port;
    const edge = await startEdge({
      dir,
      yaml: [
        `certificate_file: certs/${HOST}.pem`,
        `certificate_key_file: certs/${HOST}-key.pem`,
        'forward_client_cert: [subject, uri, dns]',
        'downstream_mtls:',
        '  ca_file: certs/ca.pem',
        `  enforcement: ${enforcement}`,
        'routes:',
        `  - from: https://${HOST}`,
        `    to: http://127.0.0.1:${appPort}`,
        '    set_request_headers:',
        '      X-Client-Email: "${pomerium.client_cert_san_email}"',
        '      X-Client-Fingerprint: "${pomerium.client_cert_fingerprint}"',
        '    allow_any_authenticated_user: true',
        '',
      ].join('\n'),
    });
    edges.push(edge);
    return `https://${HOST}:${edge.httpsPort}/`;
  }

  it('with the certificate the route loads and shows the identity from it; without it, the 495 page', async () => {
    const url = await edgeWith('policy_with_default_deny');
    const origin = new URL(url).origin;
    const withCert = await browser.newContext({
      ignoreHTTPSErrors: true,
      clientCertificates: [
        { origin, pfxPath: join(dir, 'certs', 'alice@example.com-client.p12'), passphrase: 'changeit' },
      ],
    });
    const page = await withCert.newPage();
    const res = await page.goto(url);
    assert.equal(res?.status(), 200);
    assert.match((await page.textContent('h1')) ?? '', /Hello, alice@example\.com/);
    assert.match(await page.content(), /CN=alice/);
    await page.screenshot({ path: join(ARTIFACTS, 'browser-with-certificate.png'), fullPage: true });
    await withCert.close();

    const without = await browser.newContext({ ignoreHTTPSErrors: true });
    const page2 = await without.newPage();
    const res2 = await page2.goto(url);
    assert.equal(res2?.status(), 495);
    assert.match((await page2.textContent('h1')) ?? '', /A valid client certificate is required/);
    await page2.screenshot({ path: join(ARTIFACTS, 'browser-without-certificate-495.png'), fullPage: true });
    await without.close();
  });

  it('under reject_connection a browser without the certificate gets the handshake failure', async () => {
    const url = await edgeWith('reject_connection');
    const without = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await without.newPage();
    const error = await page.goto(url).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(error, 'the navigation fails');
    assert.match(
      error.message,
      /ERR_(BAD_SSL_CLIENT_AUTH_CERT|SSL_PROTOCOL_ERROR|CONNECTION_CLOSED|SOCKET_NOT_CONNECTED|CONNECTION_RESET)/,
    );
    await page
      .screenshot({ path: join(ARTIFACTS, 'browser-without-certificate-handshake.png') })
      .catch(() => undefined);
    await without.close();

    const withCert = await browser.newContext({
      ignoreHTTPSErrors: true,
      clientCertificates: [
        {
          origin: new URL(url).origin,
          pfx: readFileSync(join(dir, 'certs', 'alice@example.com-client.p12')),
          passphrase: 'changeit',
        },
      ],
    });
    const page2 = await withCert.newPage();
    assert.equal((await page2.goto(url))?.status(), 200);
    await withCert.close();
  });
});
