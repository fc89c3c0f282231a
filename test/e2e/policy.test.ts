import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRootCa, issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { applyConfig } from '../support/config-edits.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet, type ClientRequest } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { onlyRequestFor, uniquePath } from '../support/seen.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import {
  SERVER,
  People,
  issuePeople,
  fingerprint,
  SINGLE_CRITERIA,
  DENY_AS,
  policyRoutes,
  EXPECTED,
} from './policy-people.js';

describe('route policies through Envoy: every criterion and operator, allow and deny', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge; people: People };
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.people = await issuePeople(ctx.pki);
    ctx.up = await startUpstream('u');
    ctx.edge = await startEdge({
      dir: ctx.pki.dir,
      yaml: `${SERVER}client_ca_file: ca-a.pem\nroutes:\n${policyRoutes(ctx.up, ctx.people)}`,
    });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });
  const get = (path: string, who: ClientCert | undefined, extra: Partial<ClientRequest> = {}) =>
    httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path, ...who, ...extra });

  // The same criteria as deny rules beside `accept`: exactly the others get in.
  const singles = new Set(SINGLE_CRITERIA.map(([p]) => p));
  const everyone = ['alice', 'bob', 'carol', 'dan'] as const;
  const asDeny = EXPECTED.filter(([p]) => singles.has(p)).map(([p, allowed]): [string, Array<keyof People>] => [
    DENY_AS + p,
    everyone.filter((w) => !allowed.includes(w)),
  ]);
  for (const [path, allowed] of [...EXPECTED, ...asDeny]) {
    it(`${path}: ${allowed.length ? allowed.join(', ') : 'nobody'}`, async () => {
      for (const who of ['alice', 'bob', 'carol', 'dan'] as const) {
        const before = ctx.up.seen.length;
        const res = await get(`${path}/x`, ctx.people[who]);
        const want = allowed.includes(who) ? 200 : 403;
        assert.equal(res.status, want, `${who} on ${path}: ${res.status} ${res.body.slice(0, 300)}`);
        assert.equal(ctx.up.seen.length, before + (want === 200 ? 1 : 0), `${who} on ${path}: upstream count`);
      }
    });
  }

  it('http_method: POST is refused where only GET and HEAD are allowed; /and needs GET too', async () => {
    assert.equal((await get('/method/x', ctx.people.alice, { method: 'POST' })).status, 403);
    assert.equal((await get('/and/x', ctx.people.alice, { method: 'POST' })).status, 403);
    // nor: alice is not refused when the method is not GET.
    assert.equal((await get('/nor/x', ctx.people.alice, { method: 'POST' })).status, 200);
    // As a deny rule: GET is refused, POST passes.
    assert.equal((await get(`${DENY_AS}/method/x`, ctx.people.alice, { method: 'POST' })).status, 200);
  });

  it('http_path: only paths with /open/ pass (as allow), or are refused (as deny)', async () => {
    assert.equal((await get('/path/open/a', ctx.people.dan)).status, 200);
    assert.equal((await get('/path/closed', ctx.people.dan)).status, 403);
    assert.equal((await get(`${DENY_AS}/path/open/a`, ctx.people.dan)).status, 403);
    assert.equal((await get(`${DENY_AS}/path/closed`, ctx.people.dan)).status, 200);
  });

  it('the 403 page says in words which kind of rule decided, without internal codes; JSON on request', async () => {
    const html = await get('/deny-wins/x', ctx.people.alice, { includeHeaders: true });
    assert.equal(html.status, 403);
    assert.match(String(html.headers?.['content-type']), /text\/html/);
    assert.match(html.body, /<h1>Access denied<\/h1>/);
    assert.match(html.body, /A rule that keeps people out of this page matched your request\./);
    assert.match(html.body, /<meta name="viewport"/);
    assert.doesNotMatch(html.body, /deny-rule|rbac_|ext_authz|\[none\]|%[A-Z_]+%/);
    const none = await get('/email-is/x', ctx.people.bob);
    assert.match(none.body, /None of the rules that let people into this page matched your request\./);
    const json = await get('/email-is/x', ctx.people.bob, {
      headers: { accept: 'application/json' },
      includeHeaders: true,
    });
    assert.equal(json.status, 403);
    assert.match(String(json.headers?.['content-type']), /application\/json/);
    const body = JSON.parse(json.body) as { status: number; error: string; reason: string };
    assert.equal(body.status, 403);
    assert.equal(body.error, 'forbidden');
    assert.match(body.reason, /none/);
    // Decided by the ext_authz service: its reason is the readable one.
    const ext = JSON.parse(
      (await get('/user-cn/x', ctx.people.bob, { headers: { accept: 'application/json' } })).body,
    ) as { message: string; reason: string };
    assert.match(ext.message, /user/);
  });

  it(
    'no certificate at all: the handshake refuses it before ' + 'any policy (client_ca_file means reject_connection)',
    async () => {
      await expectHandshakeRefused({
        port: ctx.edge.httpsPort,
        servername: HOSTS.x,
        ca: ctx.pki.caA,
        path: '/accept/x',
      });
    },
  );

  it('forged internal and identity headers cannot grant access or reach the upstream', async () => {
    const forged = {
      'x-mtls-edge-peer-email': 'alice@example.com',
      'x-mtls-edge-peer-fingerprint': fingerprint(ctx.people.alice.cert),
      'x-pomerium-jwt-assertion': 'forged',
    };
    assert.equal((await get('/email-is/x', ctx.people.dan, { headers: forged })).status, 403);
    assert.equal((await get('/fingerprint/x', ctx.people.dan, { headers: forged })).status, 403);
    const path = uniquePath('/accept/x');
    assert.equal((await get(path, ctx.people.dan, { headers: forged })).status, 200);
    const seen = onlyRequestFor(ctx.up, path).headers;
    for (const name of Object.keys(seen))
      assert.ok(!name.startsWith('x-mtls-edge-') && !name.startsWith('x-pomerium-'), `${name} reached the upstream`);
  });
});

describe('enforcement policy: invalid_client_certificate and authenticated_user decide, not a 495', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge; yaml: string };
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.up = await startUpstream('u');
    const route = (prefix: string, policy: string) =>
      `  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    prefix: ${prefix}\n    policy:\n${policy}`;
    ctx.yaml =
      `${SERVER}jwt_claims_headers:\n  X-Email: email\ndownstream_mtls:\n ` +
      ` ca_file: ca-a.pem\n  enforcement: policy\nroutes:\n` +
      route('/members', '      allow:\n        or:\n          - authenticated_user: true\n') +
      // Decided by the ext_authz service, which learns from Envoy's mark that a certificate is not valid here.
      route('/ext-user', '      allow:\n        or:\n          - user: alice\n') +
      route(
        '/strangers-identity',
        '      allow:\n        or:\n          - invalid_client_certificate: true\n    pass_identity_headers: true\n',
      ) +
      route('/strangers', '      allow:\n        or:\n          - invalid_client_certificate: true\n') +
      route(
        '/no-invalid',
        '      - allow:\n          or:\n            - accept: true\n      - deny:\n' +
          '          or:\n            - invalid_client_certificate: true\n',
      ) +
      route('/email', '      allow:\n        or:\n          - email: bob@example.com\n') +
      `  - from: https://${HOSTS.y}\n    to: ${ctx.up.url}\n    allow_any_authenticated_user: true\n`;
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: ctx.yaml });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });
  const get = (path: string, who?: ClientCert, extra: Partial<ClientRequest> = {}) =>
    httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path, ...who, ...extra });

  it('a valid certificate is an authenticated user; none, or one from another CA, is not', async () => {
    assert.equal((await get('/members', ctx.pki.clientA)).status, 200);
    assert.equal((await get('/members')).status, 403);
    assert.equal((await get('/members', ctx.pki.clientB)).status, 403);
    assert.equal((await get('/members', ctx.pki.expiredA)).status, 403);
  });
  it('invalid_client_certificate holds without a certificate or with an invalid one', async () => {
    assert.equal((await get('/strangers')).status, 200);
    assert.equal((await get('/strangers', ctx.pki.clientB)).status, 200);
    assert.equal((await get('/strangers', ctx.pki.clientA)).status, 403);
    assert.equal((await get('/no-invalid', ctx.pki.clientA)).status, 200);
    assert.equal((await get('/no-invalid', ctx.pki.clientB)).status, 403);
  });
  it('an untrusted certificate carries no identity: bob@example.com from another CA is not bob', async () => {
    assert.equal((await get('/email', ctx.pki.clientB)).status, 403);
  });
  it(
    'nor in the ext_authz service: "alice" from another CA is ' +
      'not alice; no JWT is ever made from such a certificate',
    async () => {
      const stranger = await createRootCa({ commonName: 'Stranger CA' });
      const fakeAlice = await issueClientCertificate(stranger, { commonName: 'alice', email: 'alice@example.com' });
      assert.equal((await get('/ext-user/1', ctx.pki.clientA)).status, 200);
      assert.equal((await get('/ext-user/2', { cert: fakeAlice.certPem, key: fakeAlice.keyPem })).status, 403);
      const path = uniquePath('/strangers-identity/3');
      assert.equal((await get(path, { cert: fakeAlice.certPem, key: fakeAlice.keyPem })).status, 200);
      const seen = onlyRequestFor(ctx.up, path);
      assert.equal(seen.headers['x-pomerium-jwt-assertion'], undefined);
      assert.equal(seen.headers['x-email'], undefined);
    },
  );
  it('the JWKS is served without a client certificate where the handshake lets such clients in', async () => {
    const res = await get('/.well-known/pomerium/jwks.json');
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { keys: unknown[] }).keys.length, 1);
  });
  it('a claim header with a name of its own (X-Email) cannot be forged on a route that does not set it', async () => {
    const path = uniquePath('/members/forged');
    assert.equal((await get(path, ctx.pki.clientA, { headers: { 'x-email': 'ceo@example.com' } })).status, 200);
    assert.equal(onlyRequestFor(ctx.up, path).headers['x-email'], undefined);
  });
  it(
    'a policy edit, and a first policy on a host, apply by hot reload ' +
      'as route changes only (the listener, and its connections, stay)',
    async () => {
      const onY = (who?: ClientCert) =>
        httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.y, ca: ctx.pki.caA, path: '/y', ...who });
      assert.equal((await get('/email', ctx.pki.clientA)).status, 403);
      assert.equal((await onY(ctx.pki.clientA)).status, 200);
      const before = await ctx.edge.status();
      const listener = 'type.googleapis.com/envoy.config.listener.v3.Listener';
      try {
        ctx.edge.writeConfig(
          ctx.yaml
            .replace('email: bob@example.com', 'email: alice@example.com')
            .replace(
              `    allow_any_authenticated_user: true\n`,
              `    policy:\n      allow:\n        or:\n          - email: bob@example.com\n`,
            ),
        );
        const after = await ctx.edge.waitForStatus((s) => s.configVersion !== before.configVersion && s.synced);
        assert.equal(after.typeVersions[listener], before.typeVersions[listener]);
        assert.equal((await get('/email', ctx.pki.clientA)).status, 200);
        assert.equal((await onY(ctx.pki.clientA)).status, 403);
      } finally {
        // The other tests of this describe, in any order, find the first config.
        await applyConfig(ctx.edge, ctx.yaml);
      }
    },
  );
});

describe(
  'a host whose routes trust different CAs (enforcement ' + 'policy): a certificate counts only on its own CA’s routes',
  () => {
    const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge };
    before(async () => {
      ctx.pki = await createTestPki();
      ctx.up = await startUpstream('u');
      const route = (prefix: string, ca: string, policy: string) =>
        `  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    prefix: ${prefix}\n    tls_downstream_client_ca_file: ${ca}\n    policy:\n${policy}`;
      ctx.edge = await startEdge({
        dir: ctx.pki.dir,
        yaml:
          `${SERVER}downstream_mtls:\n  enforcement: policy\nroutes:\n` +
          route('/a', 'ca-a.pem', '      allow:\n        or:\n          - email: { ends_with: "@example.com" }\n') +
          // Envoy tests SANs on the connection (per-SAN principal): the route's own check must still count.
          route(
            '/san-a',
            'ca-a.pem',
            '      allow:\n        or:\n          - client_certificate: { san_email: { ends_with: "@example.com" } }\n',
          ) +
          route('/b', 'ca-b.pem', '      allow:\n        or:\n          - authenticated_user: true\n'),
      });
    });
    after(async () => {
      await ctx.edge?.stop();
      await ctx.up?.close();
    });
    const get = (path: string, who?: ClientCert) =>
      httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path, ...who });

    it("each CA's certificate is an identity on its own routes only", async () => {
      assert.equal((await get('/a/1', ctx.pki.clientA)).status, 200);
      assert.equal((await get('/b/1', ctx.pki.clientB)).status, 200);
      // Valid in the handshake (it trusts both CAs), but not issued for the other route: no identity there.
      assert.equal((await get('/a/2', ctx.pki.clientB)).status, 403, 'bob@example.com from CA B on a CA A route');
      assert.equal((await get('/b/2', ctx.pki.clientA)).status, 403, 'alice from CA A on a CA B route');
      assert.equal((await get('/b/3')).status, 403);
      assert.equal((await get('/san-a/1', ctx.pki.clientA)).status, 200);
      assert.equal(
        (await get('/san-a/2', ctx.pki.clientB)).status,
        403,
        'SAN bob@example.com from CA B on a CA A route',
      );
      const stranger = await createRootCa({ commonName: 'Stranger CA' });
      const fake = await issueClientCertificate(stranger, { commonName: 'mallory', email: 'mallory@example.com' });
      assert.equal(
        (await get('/san-a/3', { cert: fake.certPem, key: fake.keyPem })).status,
        403,
        'a SAN in an untrusted certificate',
      );
    });
  },
);
