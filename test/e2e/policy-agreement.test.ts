import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueClientCertificate, type ClientCertOptions } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * Envoy's RBAC (over its own formatting of the certificate) and the ext_authz service (over the parsed
 * certificate) must decide alike. Each policy is served twice: as written (Envoy decides), and ANDed with a
 * `user` criterion that always holds here (the ext_authz service decides). Certificates with names that
 * RFC 2253 escapes, non-ASCII, several common names, SANs with commas: every pair must answer the same.
 */
const CERTIFICATES: Record<string, Omit<ClientCertOptions, 'notBefore' | 'notAfter'>> = {
  plusInName: { commonName: 'bob+x@contractors.example.com' },
  nonAscii: { commonName: 'jürgen@example.com' },
  equalsSign: { commonName: 'x=y@example.com' },
  leadingHash: { commonName: '#a@b.example' },
  twoNames: { commonName: 'alice@example.com', moreCommonNames: ['mallory@evil.com'] },
  commaInSan: { commonName: 'zed', email: 'alice@example.com,zz' },
  sanWithoutAt: { commonName: 'eve', email: 'example.com' },
  spaceInName: { commonName: 'not an@example.com' },
  upperCase: { commonName: 'Bob@Example.COM' },
  plain: { commonName: 'carol', email: 'carol@example.com' },
};

const CRITERIA = [
  'email: { is: "bob+x@contractors.example.com" }',
  'email: { is: "jürgen@example.com" }',
  'email: { contains: "ürg" }',
  'email: { is: "x=y@example.com" }',
  'email: { starts_with: "x=" }',
  'email: { is: "#a@b.example" }',
  'email: { contains: "#a" }',
  'email: { is: alice@example.com }',
  'email: { is: mallory@evil.com }',
  'email: { ends_with: "@example.com" }',
  'email: { not: alice@example.com }',
  'email: { in: [zz, "Bob@Example.COM"] }',
  'domain: { is: example.com }',
  'domain: { is: contractors.example.com }',
  'domain: { ends_with: example.com }',
  'domain: { is: b.example }',
  'domain: { not: example.com }',
];

describe('Envoy and the ext_authz service decide alike, also for names RFC 2253 escapes', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge; certs: Record<string, ClientCert> };
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.certs = {};
    for (const [name, opts] of Object.entries(CERTIFICATES)) {
      const c = await issueClientCertificate(ctx.pki.caAuthority, opts);
      ctx.certs[name] = { cert: c.certPem, key: c.keyPem };
    }
    ctx.up = await startUpstream('u');
    const route = (prefix: string, policy: string) => `  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    prefix: ${prefix}\n    policy:\n${policy}`;
    const routes = CRITERIA.flatMap((criterion, i) => [
      route(`/p${i}/envoy`, `      allow:\n        or:\n          - ${criterion}\n`),
      // `user` sends the policy to the ext_authz service; every certificate here has a user (its common name).
      route(`/p${i}/service`, `      allow:\n        and:\n          - ${criterion}\n          - user: { not: "§" }\n`),
    ]);
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: `certificate_file: server.pem\ncertificate_key_file: server-key.pem\nclient_ca_file: ca-a.pem\nroutes:\n${routes.join('')}` });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });

  it('every certificate, every policy: the same answer from both', async () => {
    const disagreements: string[] = [];
    const allowed: string[] = [];
    for (const [name, cert] of Object.entries(ctx.certs)) {
      for (const [i, criterion] of CRITERIA.entries()) {
        const get = (where: string) => httpsGet({ port: ctx.edge.httpsPort, servername: HOSTS.x, ca: ctx.pki.caA, path: `/p${i}/${where}/x`, ...cert });
        const [envoy, service] = [(await get('envoy')).status, (await get('service')).status];
        if (envoy !== service) disagreements.push(`${name} × ${criterion}: Envoy ${envoy}, service ${service}`);
        if (envoy === 200) allowed.push(`${name} × ${criterion}`);
      }
    }
    assert.deepEqual(disagreements, []);
    // And the answers are the expected ones, not just equal.
    for (const expected of [
      'plusInName × email: { is: "bob+x@contractors.example.com" }',
      'plusInName × domain: { is: contractors.example.com }',
      'nonAscii × email: { is: "jürgen@example.com" }',
      'nonAscii × email: { contains: "ürg" }',
      'equalsSign × email: { is: "x=y@example.com" }',
      'equalsSign × email: { starts_with: "x=" }',
      'leadingHash × email: { is: "#a@b.example" }',
      'leadingHash × email: { contains: "#a" }',
      'leadingHash × domain: { is: b.example }',
      'twoNames × email: { is: mallory@evil.com }',
      'commaInSan × email: { is: alice@example.com }',
      'upperCase × domain: { is: example.com }',
      'upperCase × email: { in: [zz, "Bob@Example.COM"] }',
      'plain × email: { ends_with: "@example.com" }',
    ]) {
      assert.ok(allowed.includes(expected), `${expected} should be allowed`);
    }
    for (const refused of [
      'twoNames × email: { is: alice@example.com }',
      'sanWithoutAt × domain: { is: example.com }',
      'spaceInName × domain: { is: example.com }',
      'spaceInName × email: { ends_with: "@example.com" }',
      // An email without "@" has no domain, so not even `not` holds.
      'sanWithoutAt × domain: { not: example.com }',
    ]) {
      assert.ok(!allowed.includes(refused), `${refused} should be refused`);
    }
  });
});
