import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  createCrl,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
} from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { acrossTheChange, openHttp1, openHttp2 } from '../support/open-connections.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const PUBLIC_HOST = 'public.mtls.test';

/**
 * What a connection made before a trust change can still do: the route's own policy still applies (also one the
 * ext_authz service decides), a stricter enforcement reaches it, and asking it for another host meets that
 * host's trust (or 421), never the old one.
 */
describe('requests on connections made under an older trust', () => {
  let pki: TestPki;
  let caB: CertificateAuthority;
  let up: TestUpstream;
  let edge: RunningEdge;
  const settings = { enforcement: 'policy', revoked: [] as string[] };

  // x: a policy the ext_authz service decides (`user`); y: public, which under `policy` lets clients without a
  // certificate in (x and y: CA A, one chain); z: CA B; public.mtls.test: no CA at all.
  const config = () => `
certificates:
${['x', 'y', 'z', 'public'].map((h) => `  - { cert: ${h}.pem, key: ${h}-key.pem }`).join('\n')}
downstream_mtls:
  crl_file: crl.pem
  enforcement: ${settings.enforcement}
routes:
  - from: https://${HOSTS.x}
    to: ${up.url}
    tls_downstream_client_ca_file: ca-a.pem
    policy:
      allow:
        and:
          - user:
              starts_with: alice
  - from: https://${HOSTS.y}
    to: ${up.url}
    tls_downstream_client_ca_file: ca-a.pem
    allow_public_unauthenticated_access: true
  - from: https://${HOSTS.z}
    to: ${up.url}
    tls_downstream_client_ca_file: ca-b.pem
    allow_any_authenticated_user: true
  - from: https://${PUBLIC_HOST}
    to: ${up.url}
    allow_public_unauthenticated_access: true
`;

  before(async () => {
    pki = await createTestPki();
    caB = await createRootCa({ commonName: 'Stale CA B' });
    writeFileSync(join(pki.dir, 'ca-b.pem'), caB.certPem);
    for (const [name, host] of Object.entries({ x: HOSTS.x, y: HOSTS.y, z: HOSTS.z, public: PUBLIC_HOST })) {
      const server = await issueServerCertificate(pki.caAuthority, { dnsNames: [host] });
      writeFileSync(join(pki.dir, `${name}.pem`), server.chainPem);
      writeFileSync(join(pki.dir, `${name}-key.pem`), server.keyPem);
    }
    writeFileSync(join(pki.dir, 'crl.pem'), await createCrl(pki.caAuthority, []));
    up = await startUpstream('u');
    edge = await startEdge({ dir: pki.dir, yaml: config(), drainTimeSeconds: 60 });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  const newClient = async (name: string) => {
    const c = await issueClientCertificate(pki.caAuthority, { commonName: name, email: `${name}@example.com` });
    return { cert: c.certPem, key: c.keyPem, serialHex: c.serialHex };
  };
  const applied = async (change: () => void | Promise<void>) => {
    const { configVersion } = await edge.status();
    await change();
    await edge.waitForStatus((s) => s.configVersion !== configVersion && s.synced && s.reload.errors.length === 0);
  };
  const revoke = async (serialHex: string) => {
    settings.revoked.push(serialHex);
    writeFileSync(join(pki.dir, 'crl.pem.tmp'), await createCrl(pki.caAuthority, settings.revoked));
    renameSync(join(pki.dir, 'crl.pem.tmp'), join(pki.dir, 'crl.pem'));
  };
  const across = (
    t: TestContext,
    host: string,
    o: {
      refused: Partial<ClientCert>;
      kept?: Partial<ClientCert>;
      refusedStatus?: number;
      keptStatus?: number;
      change: () => void | Promise<void>;
    },
  ) =>
    acrossTheChange({
      ...o,
      connect: (protocol, client) =>
        (protocol === 'HTTP/2' ? openHttp2 : openHttp1)({
          port: edge.httpsPort,
          servername: host,
          ca: pki.caA,
          ...client,
        }),
      change: () => applied(o.change),
      upstreamPaths: () => up.seen.map((s) => s.url),
      log: (line) => t.diagnostic(line),
    });

  it(
    'a route the service decides: a revoked certificate gets ' +
      '495, a valid one its policy (200 for alice, 403 for bob)',
    async (t) => {
      const revoked = await newClient('alice-revoked');
      await across(t, HOSTS.x, {
        refused: revoked,
        kept: await newClient('alice-kept'),
        change: () => revoke(revoked.serialHex),
      });
      // bob never passed the policy; a trust change does not make his connection any better.
      const bob = await newClient('bob');
      const conn = await openHttp2({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, ...bob });
      try {
        const mallory = await newClient('mallory');
        await applied(() => revoke(mallory.serialHex));
        const outcome = await conn.get('/bob-after');
        assert.ok('status' in outcome && outcome.status === 403, JSON.stringify(outcome).slice(0, 300));
        assert.ok(!up.seen.some((s) => s.url === '/bob-after'));
      } finally {
        conn.close();
      }
    },
  );

  it(
    'on a stale connection, another host is served only to a ' +
      'certificate its own trust accepts; a host without a CA gets 421',
    async () => {
      const alice = await newClient('alice-coalesce');
      const asks = [
        { authority: HOSTS.z, status: 495, why: "alice (CA A) asks for z, which trusts CA B: z's trust refuses her" },
        {
          authority: PUBLIC_HOST,
          status: 421,
          why: 'a host without a CA is never served on a connection of a CA chain',
        },
        {
          authority: HOSTS.x,
          status: 200,
          why: "alice asks for x: x's trust and policy accept her, as they would on a new connection",
        },
      ];
      // One connection per question: a drained connection answers one request, then says GOAWAY.
      const conns = await Promise.all(
        asks.map(() => openHttp2({ port: edge.httpsPort, servername: HOSTS.y, ca: pki.caA, ...alice })),
      );
      try {
        for (const c of conns)
          assert.deepEqual(await c.get('/warm'), { status: 200, body: 'upstream u /warm', connectionClose: false });
        // Revoking an unrelated certificate makes a new generation of every chain that trusts CA A: y's connections
        // are stale.
        const other = await newClient('unrelated');
        await applied(() => revoke(other.serialHex));
        for (const [i, a] of asks.entries()) {
          const path = `/cross/${a.authority}`;
          const outcome = await conns[i]!.get(path, a.authority);
          assert.ok(
            'status' in outcome && outcome.status === a.status,
            `${a.why}: ${JSON.stringify(outcome).slice(0, 200)}`,
          );
          // The ext_authz service's 495 is the edge's page too, in words (translate/http-filters/local-reply.ts).
          if (a.status === 495 && 'body' in outcome) {
            assert.match(outcome.body, /<h1>A valid client certificate is required<\/h1>/);
            assert.match(outcome.body, /Reload the page\./);
          }
          assert.equal(
            up.seen.some((s) => s.url === path),
            a.status === 200,
            a.why,
          );
        }
      } finally {
        for (const c of conns) c.close();
      }
    },
  );

  it(
    'the enforcement narrows from policy to policy_with_default_deny: a ' +
      'connection without a certificate now gets 495 on the public route',
    async (t) => {
      await across(t, HOSTS.y, {
        refused: {},
        kept: await newClient('kept-y'),
        change: () => {
          settings.enforcement = 'policy_with_default_deny';
          edge.writeConfig(config());
        },
      });
    },
  );
});
