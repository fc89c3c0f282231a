import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { applyConfig } from '../support/config-edits.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet, type ClientRequest } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { onlyRequestFor, uniquePath } from '../support/seen.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const SERVER = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n';

/** The guide's route, as written there: a domain policy and identity headers for the upstream. */
const guideRoute = (up: TestUpstream, domain = 'example.com') => `  - from: https://${HOSTS.y}
    to: ${up.url}
    policy:
      - allow:
          or:
            - domain:
                is: ${domain}
    pass_identity_headers: true
`;

const configYaml = (up: TestUpstream, domain?: string) =>
  `${SERVER}client_ca_file: ca-a.pem\njwt_claims_headers: [email, user]\nroutes:\n${guideRoute(up, domain)}  - from: https://${HOSTS.x}\n    to: ${up.url}\n    allow_any_authenticated_user: true\n`;

describe("the guide's route: domain policy, identity headers and a JWT an upstream can verify", () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge; guideUser: ClientCert };
  before(async () => {
    ctx.pki = await createTestPki();
    const c = await issueClientCertificate(ctx.pki.caAuthority, {
      commonName: 'yourUsername',
      email: 'yourUsername@localhost.pomerium.io',
    });
    ctx.guideUser = { cert: c.certPem, key: c.keyPem };
    ctx.up = await startUpstream('app');
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: configYaml(ctx.up) });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });
  const get = (host: string, who: ClientCert | undefined, extra: Partial<ClientRequest> = {}) =>
    httpsGet({ port: ctx.edge.httpsPort, servername: host, ca: ctx.pki.caA, path: '/hello', ...who, ...extra });
  const fetchJwks = async (host: string) => {
    const res = await get(host, ctx.pki.clientA, { path: '/.well-known/pomerium/jwks.json', includeHeaders: true });
    assert.equal(res.status, 200);
    assert.match(String(res.headers?.['content-type']), /application\/json/);
    return JSON.parse(res.body) as JSONWebKeySet;
  };
  const apply = (yaml: string) => applyConfig(ctx.edge, yaml);

  it(
    'yourUsername@localhost.pomerium.io is denied by the ' + 'domain policy (403), and nothing reaches the upstream',
    async () => {
      const before = ctx.up.seen.length;
      const res = await get(HOSTS.y, ctx.guideUser);
      assert.equal(res.status, 403);
      assert.match(res.body, /Access denied/);
      // The kind of rule, not its value: the page is for whoever asks.
      assert.match(res.body, /needs: a certificate email domain this page accepts/);
      assert.doesNotMatch(res.body, /example\.com'/);
      assert.equal(ctx.up.seen.length, before);
    },
  );

  it(
    'alice@example.com is allowed; the upstream gets her ' +
      'identity headers and a JWT that verifies against the JWKS',
    async () => {
      const path = uniquePath('/hello');
      const res = await get(HOSTS.y, ctx.pki.clientA, {
        path,
        headers: {
          'x-pomerium-jwt-assertion': 'forged',
          'x-pomerium-claim-email': 'ceo@example.com',
          'x-mtls-edge-peer-fingerprint': 'forged',
        },
      });
      assert.deepEqual(res, { status: 200, body: `upstream app ${path}` });
      const seen = onlyRequestFor(ctx.up, path).headers;
      assert.equal(seen['x-pomerium-claim-email'], 'alice@example.com');
      assert.equal(seen['x-pomerium-claim-user'], 'alice');
      assert.equal(seen['x-mtls-edge-peer-fingerprint'], undefined);
      const jwt = String(seen['x-pomerium-jwt-assertion']);
      assert.notEqual(jwt, 'forged');

      const jwks = await fetchJwks(HOSTS.y);
      assert.equal(decodeProtectedHeader(jwt).alg, 'ES256');
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: HOSTS.y, audience: HOSTS.y });
      assert.equal(payload.email, 'alice@example.com');
      assert.equal(payload.sub, 'alice');
      assert.ok(typeof payload.jti === 'string' && payload.jti.length > 0);
      assert.ok(typeof payload.iat === 'number' && typeof payload.exp === 'number' && payload.exp > payload.iat);
    },
  );

  it('the JWKS is served on every route host, also one without identity headers, with the same key', async () => {
    assert.deepEqual(await fetchJwks(HOSTS.x), await fetchJwks(HOSTS.y));
  });

  it('a JWT from a certificate nobody trusts never exists: another CA is refused at the handshake', async () => {
    await assert.rejects(get(HOSTS.y, ctx.pki.clientB));
  });

  it('the generated signing key is kept on disk (0600) and reused', () => {
    const path = join(ctx.pki.dir, '.mtls-edge', 'signing-key.pem');
    assert.ok(existsSync(path), path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  // The two edits below put the first config back, so that every test of this describe, run alone or in
  // any order, starts from the domain example.com.
  it(
    'a policy edit is applied by hot reload: ' + 'localhost.pomerium.io instead of example.com turns alice away',
    async () => {
      const before = await ctx.edge.status();
      const listener = 'type.googleapis.com/envoy.config.listener.v3.Listener';
      try {
        ctx.edge.writeConfig(configYaml(ctx.up, 'localhost.pomerium.io'));
        // The route's policy runs in the ext_authz service; Envoy gets only a new name for it (a route change).
        const s = await ctx.edge.waitForStatus((x) => x.configVersion !== before.configVersion && x.synced);
        assert.equal(s.typeVersions[listener], before.typeVersions[listener]);
        assert.equal((await get(HOSTS.y, ctx.pki.clientA)).status, 403);
        const path = uniquePath('/hello');
        assert.equal((await get(HOSTS.y, ctx.guideUser, { path })).status, 200);
        assert.equal(
          onlyRequestFor(ctx.up, path).headers['x-pomerium-claim-email'],
          'yourUsername@localhost.pomerium.io',
        );
      } finally {
        await apply(configYaml(ctx.up));
      }
    },
  );

  it(
    'a broken policy edit (a criterion that needs an identity provider) is ' +
      'refused with file, key and line; the last good policy keeps deciding',
    async () => {
      try {
        // The last good policy: another domain than the first config's, so that it shows which one decides.
        await apply(configYaml(ctx.up, 'localhost.pomerium.io'));
        const failures = (await ctx.edge.status()).reload.failures;
        ctx.edge.writeConfig(
          configYaml(ctx.up, 'localhost.pomerium.io').replace(
            '- domain:\n                is: localhost.pomerium.io',
            '- groups:\n                has: admins',
          ),
        );
        const s = await ctx.edge.waitForStatus((x) => x.reload.failures > failures);
        const error = s.reload.errors[0]!;
        assert.match(error.key, /^routes\[0\]\.policy\[0\]\.allow\.or\[0\]\.groups$/);
        // The config file starts with four address lines the harness adds.
        assert.equal(
          error.line,
          4 +
            configYaml(ctx.up)
              .split('\n')
              .findIndex((l) => l.includes('- domain:')) +
            1,
        );
        assert.match(error.message, /identity provider/);
        assert.equal((await get(HOSTS.y, ctx.guideUser)).status, 200);
        assert.equal((await get(HOSTS.y, ctx.pki.clientA)).status, 403);
      } finally {
        await apply(configYaml(ctx.up));
      }
    },
  );
});

describe('signing_key from the config: the JWKS and the JWT use it', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge; publicJwk: { x: string; y: string } };
  before(async () => {
    ctx.pki = await createTestPki();
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    ctx.publicJwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    const b64 = Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).toString('base64');
    ctx.up = await startUpstream('app');
    ctx.edge = await startEdge({
      dir: ctx.pki.dir,
      yaml: `${SERVER}client_ca_file: ca-a.pem\nroutes:\n${guideRoute(ctx.up)}`,
      env: { SIGNING_KEY: b64 },
    });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });

  it('SIGNING_KEY (env) is the key in the JWKS, and no key is generated on disk', async () => {
    const res = await httpsGet({
      port: ctx.edge.httpsPort,
      servername: HOSTS.y,
      ca: ctx.pki.caA,
      path: '/.well-known/pomerium/jwks.json',
      ...ctx.pki.clientA,
    });
    const jwks = JSON.parse(res.body) as { keys: Array<{ x: string; y: string }> };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.x, ctx.publicJwk.x);
    assert.equal(jwks.keys[0]!.y, ctx.publicJwk.y);
    assert.ok(!existsSync(join(ctx.pki.dir, '.mtls-edge', 'signing-key.pem')));
    const path = uniquePath('/signed');
    assert.equal(
      (await httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.y, ca: ctx.pki.caA, path, ...ctx.pki.clientA }))
        .status,
      200,
    );
    const jwt = String(onlyRequestFor(ctx.up, path).headers['x-pomerium-jwt-assertion']);
    await jwtVerify(jwt, createLocalJWKSet(jwks as unknown as JSONWebKeySet));
  });
});
