// The 403 page in words (issue 15, point 1): when the certificate is missing, or not valid for the route, it says
// so and what to do, whether Envoy's RBAC decided or the ext_authz service; no internal code reaches the page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet, type ClientRequest } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { SERVER } from './policy-people.js';

describe('403 pages under enforcement: policy', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge };
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.up = await startUpstream('u');
    const route = (prefix: string, policy: string) =>
      `  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    prefix: ${prefix}\n    policy:\n${policy}`;
    ctx.edge = await startEdge({
      dir: ctx.pki.dir,
      yaml:
        `${SERVER}downstream_mtls:\n  ca_file: ca-a.pem\n  enforcement: policy\nroutes:\n` +
        route('/members', '      allow:\n        or:\n          - authenticated_user: true\n') +
        route('/ext-user', '      allow:\n        or:\n          - user: dave\n') +
        route('/by-email', '      allow:\n        or:\n          - email: { is: secret-person@example.com }\n'),
    });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });
  const get = (path: string, who?: ClientCert, extra: Partial<ClientRequest> = {}) =>
    httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path, ...who, ...extra });

  it('a 403 says when the certificate is missing or not valid here, and what to do, whoever decided', async () => {
    const missing = /your browser sent no client certificate|Your browser did not send a client certificate/;
    const notValid = /the client certificate your browser sent is not valid for this page/i;
    const install = /[Ii]nstall the client certificate you were given \(a \.p12 file\)/;
    // Envoy decides /members (RBAC); the ext_authz service decides /ext-user.
    for (const path of ['/members/x', '/ext-user/x']) {
      const none = await get(path);
      assert.equal(none.status, 403, path);
      assert.match(none.body, missing, path);
      assert.match(none.body, install, path);
      const other = await get(path, ctx.pki.clientB);
      assert.equal(other.status, 403, path);
      assert.match(other.body, notValid, `${path}, a certificate from a CA the route does not trust`);
      assert.match(other.body, install, path);
      assert.doesNotMatch(other.body, missing, path);
      const json = JSON.parse((await get(path, undefined, { headers: { accept: 'application/json' } })).body) as {
        status: number;
        message: string;
      };
      assert.equal(json.status, 403);
      assert.match(json.message, missing, path);
    }
  });
  it("names the route's rule in words, in the page and in JSON", async () => {
    const page = (await get('/members/x')).body;
    assert.match(page, /Allow rule 1 needs a valid client certificate\./);
    const json = JSON.parse((await get('/members/x', undefined, { headers: { accept: 'application/json' } })).body) as {
      message: string;
    };
    assert.match(json.message, /Allow rule 1 needs a valid client certificate\.$/);
  });
  it('names the kind of rule, never whom it lets in, whoever decided', async () => {
    const byEmail = await get('/by-email/x', ctx.pki.clientA);
    assert.equal(byEmail.status, 403);
    assert.match(byEmail.body, /Allow rule 1 needs a certificate email this page accepts\./);
    assert.doesNotMatch(byEmail.body, /secret-person/);
    const byUser = await get('/ext-user/x', ctx.pki.clientA);
    assert.equal(byUser.status, 403);
    assert.match(byUser.body, /needs: a certificate user name this page accepts/);
    assert.doesNotMatch(byUser.body, /dave/);
  });
  it('shows no internal code, and reads on a phone', async () => {
    const page = (await get('/members/x')).body;
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.doesNotMatch(page, /rbac_|ext_authz|deny-rule|\[none\]|%[A-Z_]+%/);
  });
});

describe('403 pages on a host that asks for no certificate', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge };
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.up = await startUpstream('u');
    ctx.edge = await startEdge({
      dir: ctx.pki.dir,
      yaml:
        `${SERVER}routes:\n  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    policy:\n      allow:\n` +
        '        or:\n          - http_path: { starts_with: /open }\n' +
        '      deny:\n        or:\n          - http_path: { starts_with: "/open/a&b" }\n',
    });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });

  it('a rule over the path says so, and never asks for a certificate', async () => {
    const res = await httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path: '/closed' });
    assert.equal(res.status, 403);
    assert.match(res.body, /None of the rules that let people into this page matched your request\./);
    assert.match(res.body, /Allow rule 1 needs path starts with &#34;\/open&#34;\./);
    assert.doesNotMatch(res.body, /certificate/);
  });
  it('a deny rule that matched is named, its text escaped', async () => {
    const res = await httpsGet({
      port: ctx.edge.httpsPort,
      servername: HOSTS.x,
      ca: ctx.pki.caA,
      path: '/open/a&b/x',
    });
    assert.equal(res.status, 403);
    assert.match(res.body, /A rule that keeps people out of this page matched your request\./);
    assert.match(res.body, /Deny rule 1: path starts with &#34;\/open\/a&#38;b&#34;\./);
    assert.doesNotMatch(res.body, /a&b/);
  });
});
