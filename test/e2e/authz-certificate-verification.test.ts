import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { CheckRequest, CheckResponse } from '../../control-plane/src/authz/index.js';
import { createIntermediateCa, createRootCa, issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { channelCredentials, createControlChannelPki, type ControlChannelPki } from '../support/control-channel-pki.js';
import { checkClient, extAuthzRouteKeys, type CheckClient } from '../support/authz-client.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet, type ClientRequest } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { selfSignedClient } from '../unit/identity/chain-certs.js';

const ASSERTION = 'x-pomerium-jwt-assertion';
const CHAIN_HEADER = 'x-mtls-edge-peer-chain';

/** Depth 2 (an intermediate may issue), identity headers for any valid certificate. */
const configYaml = (up: TestUpstream) => `certificate_file: server.pem
certificate_key_file: server-key.pem
downstream_mtls:
  ca_file: ca-a.pem
  max_verify_depth: 2
jwt_claims_headers: [email]
routes:
  - from: https://${HOSTS.y}
    to: ${up.url}
    allow_any_authenticated_user: true
    pass_identity_headers: true
`;

/** A Check as Envoy's ext_authz filter would send it, from someone who is not Envoy. */
function check(route: string, certificatePem: string, headers: Record<string, string> = {}): CheckRequest {
  return {
    attributes: {
      source: { certificate: encodeURIComponent(certificatePem) },
      request: { http: { method: 'GET', path: '/hello', headers: { ':authority': HOSTS.y, ...headers } } },
      context_extensions: { route },
    },
  };
}

/**
 * The control channel's PKI for a test folder: the Check caller holds a valid Envoy certificate, so only the
 * service's own checks stand between it and a JWT.
 */
const channels = new Map<string, Promise<ControlChannelPki>>();
const channel = (pki: TestPki) =>
  channels.get(pki.dir) ?? channels.set(pki.dir, createControlChannelPki(pki.dir)).get(pki.dir)!;
const channelClient = async (pki: TestPki) => {
  const c = await channel(pki);
  return channelCredentials(c.ca.certPem, await c.node('not-envoy'));
};

const jwtOf = (r: CheckResponse) => r.ok_response?.headers.find((h) => h.header.key === ASSERTION)?.header.value;

describe('ext_authz verifies the client certificate itself, whoever calls Check', () => {
  const ctx = {} as {
    pki: TestPki;
    up: TestUpstream;
    edge: RunningEdge;
    client: CheckClient;
    route: string;
    jwks: JSONWebKeySet;
  };
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.up = await startUpstream('app');
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: (await channel(ctx.pki)).yaml + configYaml(ctx.up) });
    ctx.client = checkClient(ctx.edge, await channelClient(ctx.pki));
    const keys = await extAuthzRouteKeys(ctx.edge, HOSTS.y);
    assert.equal(keys.length, 1, `one ext_authz route on ${HOSTS.y}: ${keys.join(', ')}`);
    ctx.route = keys[0]!;
    const res = await get(ctx.pki.clientA, { path: '/.well-known/pomerium/jwks.json' });
    ctx.jwks = JSON.parse(res.body) as JSONWebKeySet;
  });
  after(async () => {
    ctx.client?.close();
    await ctx.edge?.stop();
    await ctx.up?.close();
  });
  const get = (who: ClientCert, extra: Partial<ClientRequest> = {}) =>
    httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.y, ca: ctx.pki.caA, path: '/hello', ...who, ...extra });

  it('a forged self-signed certificate claiming alice@example.com is denied, with no JWT', async () => {
    const forged = await selfSignedClient('alice', 'alice@example.com');
    const response = await ctx.client.check(check(ctx.route, forged));
    assert.equal(response.status.code, 7);
    assert.equal(response.ok_response, undefined);
    assert.match(
      response.denied_response?.body ?? '',
      /^the client certificate is not valid for this route: it is not issued by a CA this route trusts/,
    );
    // Naming the real CA as issuer, or a CA of the same name, does not help.
    const namingCa = await selfSignedClient('alice', 'alice@example.com', 'Test CA A');
    assert.match(
      (await ctx.client.check(check(ctx.route, namingCa))).denied_response?.body ?? '',
      /does not verify with the key/,
    );
    const lookAlike = await createRootCa({ commonName: 'Test CA A' });
    const mallory = await issueClientCertificate(lookAlike, { commonName: 'alice', email: 'alice@example.com' });
    assert.equal(
      (
        await ctx.client.check(
          check(ctx.route, mallory.certPem, {
            [CHAIN_HEADER]: encodeURIComponent(mallory.certPem + lookAlike.certPem),
          }),
        )
      ).status.code,
      7,
    );
  });

  it('the genuine certificate is allowed, with a JWT that verifies against the edge JWKS', async () => {
    const response = await ctx.client.check(check(ctx.route, ctx.pki.clientA.cert));
    assert.equal(response.status.code, 0, response.denied_response?.body);
    const { payload } = await jwtVerify(jwtOf(response)!, createLocalJWKSet(ctx.jwks), {
      issuer: HOSTS.y,
      audience: HOSTS.y,
    });
    assert.equal(payload.email, 'alice@example.com');
  });

  it('an expired certificate of the right CA is denied, even without Envoy marking it', async () => {
    const response = await ctx.client.check(check(ctx.route, ctx.pki.expiredA.cert));
    assert.match(response.denied_response?.body ?? '', /it expired at/);
  });

  it('a leaf under an intermediate needs the chain: alone it is denied, with its chain allowed', async () => {
    const [leaf, intermediate] = ctx.pki.clientAViaIntermediate.cert.match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g,
    )!;
    assert.equal((await ctx.client.check(check(ctx.route, leaf))).status.code, 7);
    const response = await ctx.client.check(
      check(ctx.route, leaf, { [CHAIN_HEADER]: encodeURIComponent(leaf + intermediate!) }),
    );
    assert.equal(response.status.code, 0, response.denied_response?.body);
    assert.ok(jwtOf(response));
  });

  it(
    'through Envoy, a certificate issued by an intermediate (depth ' +
      '2) gets its identity headers; the chain header stays internal',
    async () => {
      const before = ctx.up.seen.length;
      const res = await get(ctx.pki.clientAViaIntermediate, { headers: { [CHAIN_HEADER]: 'forged' } });
      assert.deepEqual(res, { status: 200, body: 'upstream app /hello' });
      assert.equal(ctx.up.seen.length, before + 1);
      const seen = ctx.up.seen.at(-1)!.headers;
      assert.equal(seen[CHAIN_HEADER], undefined);
      assert.equal(seen['x-pomerium-claim-email'], 'carol@example.com');
      const { payload } = await jwtVerify(String(seen[ASSERTION]), createLocalJWKSet(ctx.jwks), {
        issuer: HOSTS.y,
        audience: HOSTS.y,
      });
      assert.equal(payload.email, 'carol@example.com');
      // And a client sending its own chain header cannot make a leaf chain to the CA that Envoy would not.
      assert.equal(
        (
          await get(ctx.pki.clientA, {
            headers: { [CHAIN_HEADER]: encodeURIComponent(ctx.pki.clientAViaIntermediate.cert) },
          })
        ).status,
        200,
      );
    },
  );

  it(
    'through Envoy, an intermediate two levels down (depth 3) ' +
      'is refused by the handshake and never reaches ext_authz',
    async () => {
      const second = await createIntermediateCa(ctx.pki.intermediateA, { commonName: 'Test Intermediate A2' });
      const dan = await issueClientCertificate(second, { commonName: 'dan', email: 'dan@example.com' });
      const before = ctx.up.seen.length;
      const res = await get({ cert: dan.chainPem, key: dan.keyPem }).catch((e: Error) => ({
        status: 0,
        body: e.message,
      }));
      assert.notEqual(res.status, 200);
      assert.equal(ctx.up.seen.length, before);
      // The service, asked directly with the same chain, says the same.
      const [leaf] = dan.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
      const response = await ctx.client.check(
        check(ctx.route, leaf, { [CHAIN_HEADER]: encodeURIComponent(dan.chainPem) }),
      );
      assert.match(response.denied_response?.body ?? '', /3 certificates above it, and this route allows 2/);
    },
  );
});

/** One host, two routes that pass identity headers: CA A's and CA B's. */
const sharedHostYaml = (up: TestUpstream) => `certificate_file: server.pem
certificate_key_file: server-key.pem
downstream_mtls:
  enforcement: policy
jwt_claims_headers: [email]
routes:
${[
  ['/a', '    tls_downstream_client_ca_file: ca-a.pem\n    allow_any_authenticated_user: true'],
  ['/b', '    tls_downstream_client_ca_file: ca-b.pem\n    allow_any_authenticated_user: true'],
]
  .map(
    ([prefix, rest]) =>
      `  - from: https://${HOSTS.z}\n    to: ${up.url}\n    prefix: ${prefix}\n${rest}\n    pass_identity_headers: true\n`,
  )
  .join('')}`;

describe(
  'a host whose routes trust different CAs: each ext_authz ' + 'route verifies against its own CA, direct issuer only',
  () => {
    const ctx = {} as {
      pki: TestPki;
      up: TestUpstream;
      edge: RunningEdge;
      client: CheckClient;
      keys: { a: string; b: string };
    };
    before(async () => {
      ctx.pki = await createTestPki();
      ctx.up = await startUpstream('app');
      ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: (await channel(ctx.pki)).yaml + sharedHostYaml(ctx.up) });
      ctx.client = checkClient(ctx.edge, await channelClient(ctx.pki));
      const keys = await extAuthzRouteKeys(ctx.edge, HOSTS.z);
      const byIndex = (i: number) => keys.find((k) => k.startsWith(`route-${i}.`))!;
      ctx.keys = { a: byIndex(0), b: byIndex(1) };
    });
    after(async () => {
      ctx.client?.close();
      await ctx.edge?.stop();
      await ctx.up?.close();
    });
    const get = (path: string, who: ClientCert) =>
      httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.z, ca: ctx.pki.caA, path, ...who });
    const email = () => ctx.up.seen.at(-1)!.headers['x-pomerium-claim-email'];

    it("through Envoy: each CA's client gets its identity on its own route only", async () => {
      assert.equal((await get('/a/1', ctx.pki.clientA)).status, 200);
      assert.equal(email(), 'alice@example.com');
      assert.equal((await get('/b/1', ctx.pki.clientB)).status, 200);
      assert.equal(email(), 'bob@example.com');
      assert.equal((await get('/b/2', ctx.pki.clientA)).status, 495);
      // Under an intermediate: the handshake (union, depth 1) does not validate it, so no route takes it.
      assert.equal((await get('/a/2', ctx.pki.clientAViaIntermediate)).status, 495);
    });

    it(
      "Check called directly: another CA's certificate, one under an " +
        "intermediate (with its chain) or a forgery is no identity on CA A's route",
      async () => {
        const denied = async (key: string, cert: string, chain?: string) =>
          (await ctx.client.check(check(key, cert, chain ? { [CHAIN_HEADER]: encodeURIComponent(chain) } : {})))
            .denied_response?.body ?? '';
        assert.match(await denied(ctx.keys.a, ctx.pki.clientB.cert), /not issued by a CA this route trusts/);
        const [leaf] = ctx.pki.clientAViaIntermediate.cert.match(
          /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g,
        )!;
        assert.match(
          await denied(ctx.keys.a, leaf, ctx.pki.clientAViaIntermediate.cert),
          /issued directly by one of its CAs/,
        );
        const forged = await selfSignedClient('alice', 'alice@example.com', 'Test CA A');
        assert.match(await denied(ctx.keys.a, forged), /does not verify with the key/);
        const ok = await ctx.client.check(check(ctx.keys.b, ctx.pki.clientB.cert));
        assert.equal(ok.status.code, 0, ok.denied_response?.body);
        assert.ok(jwtOf(ok));
      },
    );
  },
);
