import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { issueClientCertificate, type ClientCertOptions } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { FUZZ_CRITERIA, fuzzCertificate, FuzzIssuer, type FuzzCertificate } from '../support/identity-fuzz.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * Envoy's RBAC (over its own formatting of the certificate and its per-SAN principal) and the ext_authz
 * service (over the parsed certificate) must decide alike. Each policy is served twice: as written (Envoy
 * decides), and with pass_identity_headers (the service decides, whatever the criterion). Certificates with
 * names RFC 2253 escapes, non-ASCII, several common names, SANs with commas, look-alike host names, and a
 * random sample: every pair must answer the same, and the answers must be the right ones.
 */
const ISSUED: Record<string, Omit<ClientCertOptions, 'notBefore' | 'notAfter'>> = {
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

/** Certificates whose SAN bytes matter exactly: written raw (identity-fuzz.ts). */
const RAW: Record<string, FuzzCertificate> = {
  commaDns: { subject: [[['CN', 'eve']]], sans: [['dns', 'evil.ex,victim.ex']] },
  twoDns: {
    subject: [[['CN', 'vic']]],
    sans: [
      ['dns', 'evil.ex'],
      ['dns', 'victim.ex'],
    ],
  },
  upperDns: { subject: [[['CN', 'vic']]], sans: [['dns', 'WWW.Victim.EX']] },
  cyrillicDns: {
    subject: [[['CN', 'eve']]],
    sans: [
      ['dns', 'victim.\u0435x'],
      ['dns', 'www.victim.\u0435x'],
    ],
  },
  fullwidthDns: {
    subject: [[['CN', 'eve']]],
    sans: [
      ['dns', 'ｖictim.ex'],
      ['dns', 'www.ｖictim.ex'],
    ],
  },
  aLabelDns: { subject: [[['CN', 'ida']]], sans: [['dns', 'xn--bcher-kva.example']] },
  uLabelDns: { subject: [[['CN', 'eve']]], sans: [['dns', 'bücher.example']] },
  commaEmail: { subject: [[['CN', 'alice@example.com']]], sans: [['email', 'alice@example.com,mallory@victim.ex']] },
  commaEmailSecond: {
    subject: [],
    sans: [
      ['email', 'alice@example.com'],
      ['email', 'x,y@victim.ex'],
    ],
  },
  cnSmuggle: { subject: [[['CN', 'x,CN=alice@example.com']]], sans: [] },
  cnQuoted: { subject: [[['CN', '"alice"@example.com']]], sans: [] },
  cnNul: { subject: [[['CN', 'alice@example.com\0']]], sans: [] },
  cyrillicEmail: { subject: [[['CN', 'eve']]], sans: [['email', 'alice@ex\u0430mple.com']] },
  idnEmail: { subject: [[['CN', 'ida']]], sans: [['email', 'ida@xn--bcher-kva.example']] },
  commaUri: { subject: [[['CN', 'svc']]], sans: [['uri', 'spiffe://example.com/a,b']] },
  // Bytes a header value cannot hold, in the email SAN list: Envoy must not take the common name instead.
  nulEmail: { subject: [[['CN', 'alice@example.com']]], sans: [['email', 'x\0y@example.com']] },
  crlfEmail: { subject: [[['CN', 'alice@example.com']]], sans: [['email', 'x@example.com\r\nX-A: b']] },
  splitUri: {
    subject: [[['CN', 'svc']]],
    sans: [
      ['uri', 'spiffe://example.com/a'],
      ['uri', 'b'],
    ],
  },
};

const CRITERIA = [
  ...new Set([
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
    // Larger regexes than Envoy's default RE2 limit (100) admits: the bootstrap raises it.
    'domain: { ends_with: contractors.example.com }',
    `email: { in: [${Array.from({ length: 9 }, (_, i) => `user${i}@contractors.example.com`).join(', ')}, ` +
      '"bob+x@contractors.example.com"] }',
    ...FUZZ_CRITERIA,
  ]),
];

/** GETs over one kept-alive TLS connection per certificate: the handshake is the costly part. */
function client(
  port: number,
  ca: string,
  cert: ClientCert,
): { get: (path: string) => Promise<number>; close: () => void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, cert: cert.cert, key: cert.key, servername: HOSTS.x });
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, agent, headers: { host: HOSTS.x }, timeout: 10_000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });
  return { get, close: () => agent.destroy() };
}

describe('Envoy and the ext_authz service decide alike, on tricky and on random certificates', () => {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge; certs: Record<string, ClientCert> };
  before(async () => {
    ctx.pki = await createTestPki();
    ctx.certs = {};
    for (const [name, opts] of Object.entries(ISSUED)) {
      const c = await issueClientCertificate(ctx.pki.caAuthority, opts);
      ctx.certs[name] = { cert: c.certPem, key: c.keyPem };
    }
    const raw = new FuzzIssuer(ctx.pki.caAuthority);
    for (const [name, c] of Object.entries(RAW)) {
      const issued = await raw.issue(c);
      ctx.certs[name] = { cert: issued.certPem, key: issued.keyPem };
    }
    ctx.up = await startUpstream('u');
    const route = (prefix: string, criterion: string, extra = '') =>
      `  - from: https://${HOSTS.x}\n    to: ${ctx.up.url}\n    prefix: ${prefix}\n    policy:\n      allow:\n        or:\n          - ${criterion}\n${extra}`;
    // pass_identity_headers sends the route to the ext_authz service (only it can sign the JWT).
    const routes = CRITERIA.flatMap((criterion, i) => [
      route(`/p${i}/envoy`, criterion),
      route(`/p${i}/service`, criterion, '    pass_identity_headers: true\n'),
    ]);
    ctx.edge = await startEdge({
      dir: ctx.pki.dir,
      yaml:
        `certificate_file: server.pem\ncertificate_key_file: ` +
        `server-key.pem\nclient_ca_file: ca-a.pem\nroutes:\n${routes.join('')}`,
    });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });

  /** Every criterion for one certificate: the pairs that disagree, and the criteria that let it in. */
  async function decide(cert: ClientCert, criteria: string[]): Promise<{ disagreements: string[]; allowed: string[] }> {
    const c = client(ctx.edge.httpsPort, ctx.pki.caA, cert);
    const out = { disagreements: [] as string[], allowed: [] as string[] };
    try {
      for (const criterion of criteria) {
        const i = CRITERIA.indexOf(criterion);
        const [envoy, service] = [await c.get(`/p${i}/envoy/x`), await c.get(`/p${i}/service/x`)];
        if (envoy !== service) out.disagreements.push(`${criterion}: Envoy ${envoy}, service ${service}`);
        if (envoy === 200) out.allowed.push(criterion);
        assert.ok(envoy === 200 || envoy === 403, `${criterion}: Envoy answered ${envoy}`);
      }
    } finally {
      c.close();
    }
    return out;
  }

  it('every tricky certificate, every policy: the same answer from both, and the right one', async () => {
    const disagreements: string[] = [];
    const allowed: string[] = [];
    for (const [name, cert] of Object.entries(ctx.certs)) {
      const got = await decide(cert, CRITERIA);
      disagreements.push(...got.disagreements.map((d) => `${name} × ${d}`));
      allowed.push(...got.allowed.map((a) => `${name} × ${a}`));
    }
    assert.deepEqual(disagreements, []);
    for (const expected of [
      'plusInName × email: { is: "bob+x@contractors.example.com" }',
      'plusInName × domain: { is: contractors.example.com }',
      'plusInName × domain: { ends_with: contractors.example.com }',
      `plusInName × ${CRITERIA.find((c) => c.startsWith('email: { in: [user0'))}`,
      'equalsSign × email: { is: "x=y@example.com" }',
      'equalsSign × email: { starts_with: "x=" }',
      'leadingHash × email: { is: "#a@b.example" }',
      'leadingHash × email: { contains: "#a" }',
      'leadingHash × domain: { is: b.example }',
      'twoNames × email: { is: mallory@evil.com }',
      'upperCase × domain: { is: example.com }',
      'upperCase × email: { in: [zz, "Bob@Example.COM"] }',
      'plain × email: { ends_with: "@example.com" }',
      'twoDns × client_certificate: { san_dns: victim.ex }',
      'twoDns × client_certificate: { san_dns: { in: [evil.ex, bücher.example] } }',
      'upperDns × client_certificate: { san_dns: { ends_with: .victim.ex } }',
      'aLabelDns × client_certificate: { san_dns: { in: [evil.ex, bücher.example] } }',
      'idnEmail × domain: bücher.example',
      'commaEmailSecond × client_certificate: { san_email: alice@example.com }',
      'commaUri × client_certificate: { san_uri: "spiffe://example.com/a,b" }',
    ]) {
      assert.ok(allowed.includes(expected), `${expected} should be allowed`);
    }
    const refused = [
      // One DNS SAN "evil.ex,victim.ex" is not two SANs, and is no host name: it matches nothing.
      'commaDns × client_certificate: { san_dns: victim.ex }',
      'commaDns × client_certificate: { san_dns: { ends_with: .victim.ex } }',
      'commaDns × client_certificate: { san_dns: { contains: "ex" } }',
      'commaDns × client_certificate: { san_dns: { in: [evil.ex, bücher.example] } }',
      // Envoy's joined email list would start with "alice@example.com": no email at all.
      'commaInSan × email: { is: alice@example.com }',
      'commaEmail × email: alice@example.com',
      'commaEmail × domain: example.com',
      'commaEmail × email: { not: alice@example.com }',
      'commaEmailSecond × email: alice@example.com',
      'nulEmail × email: alice@example.com',
      'crlfEmail × email: alice@example.com',
      'crlfEmail × email: { ends_with: "@example.com" }',
      'splitUri × client_certificate: { san_uri: "spiffe://example.com/a,b" }',
      // A common name is an email only if it is a mail address.
      'cnSmuggle × email: alice@example.com',
      'cnSmuggle × email: { ends_with: "@example.com" }',
      'cnSmuggle × domain: example.com',
      'cnQuoted × domain: example.com',
      'cnNul × email: alice@example.com',
      'cnNul × domain: example.com',
      'nonAscii × email: { is: "jürgen@example.com" }',
      'nonAscii × domain: { is: example.com }',
      'twoNames × email: { is: alice@example.com }',
      'sanWithoutAt × domain: { is: example.com }',
      'sanWithoutAt × domain: { not: example.com }',
      'spaceInName × domain: { is: example.com }',
      'spaceInName × email: { ends_with: "@example.com" }',
      // Look-alikes and U-labels never match an ASCII (or A-label) policy value.
      'cyrillicDns × client_certificate: { san_dns: victim.ex }',
      'cyrillicDns × client_certificate: { san_dns: { ends_with: .victim.ex } }',
      'fullwidthDns × client_certificate: { san_dns: victim.ex }',
      'fullwidthDns × client_certificate: { san_dns: { ends_with: .victim.ex } }',
      'uLabelDns × client_certificate: { san_dns: { in: [evil.ex, bücher.example] } }',
      'cyrillicEmail × domain: example.com',
      'cyrillicEmail × email: { ends_with: "@example.com" }',
    ];
    for (const no of refused) {
      assert.ok(
        CRITERIA.some((c) => no.endsWith(` × ${c}`)),
        `${no} names a served criterion`,
      );
      assert.ok(!allowed.includes(no), `${no} should be refused`);
    }
  });

  it('a random sample of certificates: the same answer from both', async () => {
    const seed = Date.now();
    const sample = fc.sample(fuzzCertificate, { seed, numRuns: 24 });
    const issuer = new FuzzIssuer(ctx.pki.caAuthority);
    const disagreements: string[] = [];
    let allowed = 0;
    for (const c of sample) {
      const issued = await issuer.issue(c);
      const got = await decide({ cert: issued.certPem, key: issued.keyPem }, FUZZ_CRITERIA);
      disagreements.push(...got.disagreements.map((d) => `${JSON.stringify(c)} × ${d}`));
      allowed += got.allowed.length;
    }
    assert.deepEqual(disagreements, [], `seed ${seed}`);
    // Criteria like `domain: { not: victim.ex }` admit most certificates with an email: never all refused.
    assert.ok(allowed > 0, `seed ${seed}: some random certificate got in somewhere`);
  });
});
