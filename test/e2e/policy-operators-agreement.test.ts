import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRootCa, issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { keepAliveClient } from '../support/keep-alive-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * Policies with `not` and `nor`, several rules with both actions, and SAN and fingerprint criteria, served twice
 * on one host: as written (Envoy's RBAC decides) and with pass_identity_headers (the ext_authz service decides).
 * Under `enforcement: policy` requests without a certificate, or with one Envoy could not validate, reach the
 * policy too, and so do certificates of CA C, which another route of the host trusts: valid at the handshake,
 * but not for these routes (Envoy's per-SAN principal still sees their SANs). Every request must get the same
 * answer from both, and the answers below must be the right ones.
 * (test/unit/policy/rbac-agreement-property.test.ts compares the two on random policies, without Envoy.)
 */
type Who = 'alice' | 'bob' | 'carol' | 'dan' | 'none' | 'stranger' | 'expired' | 'other';

/** The policies, as YAML under `policy:` (indented for a route); `fp` gives a certificate's fingerprint. */
const POLICIES: Record<string, (fp: (who: Who) => string) => string> = {
  // None of these may hold: no email under example.com, no DNS SAN under victim.ex.
  not: () => `
      allow:
        not:
          - email: { ends_with: "@example.com" }
          - client_certificate: { san_dns: { ends_with: .victim.ex } }`,
  // Allowed unless both hold (a valid certificate, GET); denied where the path holds no /public.
  nor: () => `
      allow:
        nor:
          - authenticated_user: true
          - http_method: GET
      deny:
        not:
          - http_path: { contains: /public }`,
  rules: (fp) => `
      - allow:
          or:
            - client_certificate: { san_uri: { starts_with: "spiffe://example.com/ns/" } }
            - domain: example.org
        deny:
          and:
            - http_method: POST
            - client_certificate: { san_email: { ends_with: "@victim.ex" } }
      - allow:
          and:
            - invalid_client_certificate: true
            - http_method: { in: [GET, HEAD] }
      - deny:
          not:
            - client_certificate: { fingerprint: [${fp('alice')}, ${fp('carol')}] }
            - invalid_client_certificate: true
            - email: { starts_with: bob }`,
  certificates: (fp) => `
      allow:
        or:
          - client_certificate: { fingerprint: ${fp('alice')}, san_dns: { ends_with: .corp.example.com } }
          - client_certificate: { san_email: { in: [x@victim.ex, nobody@example.com] } }
        nor:
          - client_certificate: { san_uri: { contains: /ns/ } }
          - http_method: GET
      deny:
        and:
          - http_method: POST
          - client_certificate: { san_dns: www.victim.ex }`,
  // Alone in its policy: Envoy must still be given the property it reads (the fingerprint header).
  invalid: () => `
      allow:
        or:
          - invalid_client_certificate: true
      deny:
        nor:
          - http_method: GET`,
};

/**
 * [GET, POST] on a path holding /public (the nor policy denies every other), for each certificate: worked out by
 * hand from the rules above.
 */
const EXPECTED: Record<string, Record<Who, [number, number]>> = {
  not: {
    other: [200, 200],
    alice: [403, 403],
    bob: [403, 403],
    carol: [200, 200],
    dan: [200, 200],
    none: [200, 200],
    stranger: [200, 200],
    expired: [200, 200],
  },
  nor: {
    other: [200, 200],
    alice: [403, 200],
    bob: [403, 200],
    carol: [403, 200],
    dan: [403, 200],
    none: [200, 200],
    stranger: [200, 200],
    expired: [200, 200],
  },
  rules: {
    other: [200, 403],
    alice: [200, 200],
    bob: [403, 403],
    carol: [200, 403],
    dan: [403, 403],
    none: [200, 403],
    stranger: [200, 403],
    expired: [200, 403],
  },
  invalid: {
    other: [200, 403],
    alice: [403, 403],
    bob: [403, 403],
    carol: [403, 403],
    dan: [403, 403],
    none: [200, 403],
    stranger: [200, 403],
    expired: [200, 403],
  },
  certificates: {
    other: [200, 200],
    alice: [200, 200],
    bob: [403, 403],
    carol: [200, 200],
    dan: [200, 200],
    none: [200, 200],
    stranger: [200, 200],
    expired: [200, 200],
  },
};

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

async function issueCertificates(pki: TestPki): Promise<Record<Who, ClientCert | undefined>> {
  const issue = async (o: Parameters<typeof issueClientCertificate>[1]): Promise<ClientCert> => {
    const c = await issueClientCertificate(pki.caAuthority, o);
    return { cert: c.certPem, key: c.keyPem };
  };
  return {
    alice: await issue({
      commonName: 'alice',
      email: 'alice@example.com',
      dnsNames: ['alice.corp.example.com'],
      uris: ['spiffe://example.com/ns/alice'],
    }),
    // The email comes from the common name: no email SAN.
    bob: await issue({
      commonName: 'bob@corp.example.com',
      dnsNames: ['www.victim.ex'],
      uris: ['spiffe://victim.ex/ns/bob'],
    }),
    carol: await issue({ commonName: 'carol', email: 'carol@example.org', moreEmails: ['x@victim.ex'] }),
    dan: await issue({ commonName: 'dan' }),
    none: undefined,
    // Issued by a CA the edge does not trust, and expired: both reach the policy without an identity.
    stranger: pki.clientB,
    expired: pki.expiredA,
    // Alice's SANs, from the CA of another route: a SAN criterion must not take them for this route's.
    other: await issueOther(pki),
  };
}

async function issueOther(pki: TestPki): Promise<ClientCert> {
  const caC = await createRootCa({ commonName: 'Test CA C' });
  writeFileSync(join(pki.dir, 'ca-c.pem'), caC.certPem);
  const c = await issueClientCertificate(caC, {
    commonName: 'alice',
    email: 'alice@example.com',
    dnsNames: ['alice.corp.example.com'],
    uris: ['spiffe://example.com/ns/alice'],
  });
  return { cert: c.certPem, key: c.keyPem };
}

describe('Envoy and the ext_authz service decide alike on not, nor, several rules, SANs and fingerprints', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge; certs: Record<Who, ClientCert | undefined> };
  const names = Object.keys(POLICIES);
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.certs = await issueCertificates(ctx.pki);
    const fp = (who: Who) => fingerprintOf(ctx.certs[who]!.cert);
    ctx.up = await startUpstream('u');
    const route = (prefix: string, policy: string, extra = '') =>
      `  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    prefix: ${prefix}\n${extra}    policy:${policy}\n`;
    const routes = names.flatMap((name) => [
      route(`/${name}/envoy`, POLICIES[name]!(fp)),
      route(`/${name}/service`, POLICIES[name]!(fp), '    pass_identity_headers: true\n'),
    ]);
    // A route of the same host that trusts CA C: the handshake then accepts certificates of CA A or C.
    routes.push(
      `  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    prefix: /ca-c\n    tls_downstream_client_ca_file: ca-c.pem\n    allow_any_authenticated_user: true\n`,
    );
    const yaml =
      `certificate_file: server.pem\ncertificate_key_file: server-key.pem\ndownstream_mtls:\n ` +
      ` ca_file: ca-a.pem\n  enforcement: policy\nroutes:\n${routes.join('')}`;
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });

  it('the same answer from both for every certificate, method and path, and the expected one', async () => {
    const disagreements: string[] = [];
    const wrong: string[] = [];
    for (const [who, cert] of Object.entries(ctx.certs) as Array<[Who, ClientCert | undefined]>) {
      const client = keepAliveClient({
        port: ctx.edge.httpsPort,
        servername: HOSTS.x,
        ca: ctx.pki.caA,
        ...(cert ? { cert: cert.cert, key: cert.key } : {}),
      });
      try {
        for (const name of names) {
          for (const [m, method] of ['GET', 'POST'].entries()) {
            // The query names /public too: a policy on the path must not read it.
            for (const rest of ['/public/page', '/admin?next=/public']) {
              const envoy = await client.send(method, `/${name}/envoy${rest}`);
              const service = await client.send(method, `/${name}/service${rest}`);
              const at = `${name} × ${who} × ${method} ${rest}`;
              assert.ok(envoy === 200 || envoy === 403, `${at}: Envoy answered ${envoy}`);
              if (envoy !== service) disagreements.push(`${at}: Envoy ${envoy}, service ${service}`);
              // Only the nor policy reads the path: the others answer on /admin as on /public.
              const expected = rest.startsWith('/public') || name !== 'nor' ? EXPECTED[name]![who][m] : 403;
              if (envoy !== expected) wrong.push(`${at}: ${envoy}, expected ${expected}`);
            }
          }
        }
      } finally {
        client.close();
      }
    }
    assert.deepEqual(disagreements, []);
    assert.deepEqual(wrong, []);
  });

  it(
    'the certificate of CA C is valid at the handshake ' + '(its own route lets it in), those of CA B are not',
    async () => {
      const status = async (who: Who) => {
        const client = keepAliveClient({
          port: ctx.edge.httpsPort,
          servername: HOSTS.x,
          ca: ctx.pki.caA,
          ...ctx.certs[who],
        });
        try {
          return await client.send('GET', '/ca-c/x');
        } finally {
          client.close();
        }
      };
      assert.equal(await status('other'), 200);
      assert.equal(await status('stranger'), 495);
    },
  );
});
