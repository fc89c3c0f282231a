// docs/sign-in.md's guide, as written: the seed's route behind a client certificate and a sign-in, the local
// provider of `npm run idp`, the verify app. Only the ports, the provider's URL and the cookie secret change.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startVerifyApp } from '../../control-plane/src/demo/verify-app.js';
import { runCli, startEdge, type RunningEdge } from '../support/edge.js';
import { EdgeBrowser } from '../support/edge-browser.js';
import { ROOT } from '../support/kubernetes.js';
import { startLocalIdp } from '../support/local-idp.js';
import type { StartedIdp } from '../support/oidc-idp.js';
import { freePort } from '../support/ports.js';
import { blockUnder, readmeBlocks } from '../support/readme-blocks.js';
import { signInAs } from '../support/sign-in-fixture.js';

const HOST = 'verify.localhost.pomerium.io';
const IDENTITY = 'yourUsername@localhost.pomerium.io';
const guide = readmeBlocks(readFileSync(join(ROOT, 'docs', 'sign-in.md'), 'utf8'));

describe("docs/sign-in.md's guide: the seed's route, a client certificate and a sign-in", () => {
  let dir: string;
  let idp: StartedIdp;
  let app: Server;
  let edge: RunningEdge;
  let port: number;
  let ca: string;
  let certificate: { cert: string; key: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-sign-in-guide-'));
    for (const args of [['ca'], ['server', '*.localhost.pomerium.io'], ['client', IDENTITY]]) {
      const made = await runCli(['certs', ...args, '--dir', join(dir, 'certs')]);
      assert.equal(made.code, 0, made.stderr);
    }
    ca = readFileSync(join(dir, 'certs', 'ca.pem'), 'utf8');
    const client = join(dir, 'certs', `${IDENTITY}-client`);
    certificate = { cert: readFileSync(`${client}.pem`, 'utf8'), key: readFileSync(`${client}-key.pem`, 'utf8') };
    port = await freePort();
    idp = await startLocalIdp(0, [`https://${HOST}:${port}`]);
    app = await startVerifyApp('127.0.0.1', 0);
    const appPort = (app.address() as AddressInfo).port;
    const yaml = blockUnder(guide, "Guide: the seed's route", 'yaml')
      .text.replace(/^address: .*\n/m, '')
      .replace('http://127.0.0.1:5556', idp.issuer)
      .replaceAll('127.0.0.1:8000', `127.0.0.1:${appPort}`)
      .replace(/^cookie_secret: .*$/m, `cookie_secret: ${Buffer.alloc(32, 3).toString('base64')}`);
    edge = await startEdge({ dir, yaml, httpsPort: port });
  });
  after(async () => {
    await edge?.stop();
    await idp?.stop();
    await new Promise((resolve) => app?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('alice, with the certificate, signs in and the verify app greets her from the signed assertion', async () => {
    const page = await signInAs(new EdgeBrowser(port, ca, certificate), { idp, edge }, HOST, '/', 'alice');
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /<h1>Hello, alice@example\.com<\/h1>/);
    assert.match(page.body, /<th>x-pomerium-claim-groups<\/th><td>admins<\/td>/);
    // The session's cookies stay at the edge: the upstream learns who signed in from the headers above only.
    assert.doesNotMatch(page.body, /_pomerium/);
  });

  it('bob (bob@example.org) gets the 403 page', async () => {
    const page = await signInAs(new EdgeBrowser(port, ca, certificate), { idp, edge }, HOST, '/', 'bob');
    assert.equal(page.status, 403);
  });

  it('without the certificate a page says one is needed (495), and no sign-in starts', async () => {
    const before = idp.counts.authorization;
    const res = await new EdgeBrowser(port, ca).get(HOST, '/');
    assert.equal(res.status, 495);
    assert.equal(idp.counts.authorization, before);
  });

  it('/.pomerium/sign_out signs out at the edge and at the provider', async () => {
    const browser = new EdgeBrowser(port, ca, certificate);
    assert.equal((await signInAs(browser, { idp, edge }, HOST, '/', 'alice')).status, 200);
    const out = await browser.get(HOST, '/.pomerium/sign_out');
    assert.equal(out.status, 302);
    assert.equal(new URL(String(out.headers?.['location'])).origin, idp.issuer);
    assert.equal((await browser.get(HOST, '/')).status, 302);
  });
});
