// What verifying client certificates in the ext_authz service costs, in-process (no gRPC, no Envoy): one
// verification without any cache (a certificate seen for the first time under a trust), and one Check with
// the verdict cached (every later request of that client) against one whose verdict is never cached.
// Run alone: `node dist/control-plane/bench/verify-cost.js`; `npm run bench` runs it at the end of the policy bench
// (policy-bench.ts), with the in-process ext_authz check below. A check that is denied, or a certificate that does
// not verify, throws: the figures would be of the wrong path.
import { fileURLToPath } from 'node:url';
import { AuthorizationService, type AuthorizationRoute, type CheckRequest } from '../src/authz/index.js';
import { verifyClientCertificate, type ClientTrust } from '../src/identity/verify-certificate.js';
import { createCrl, createIntermediateCa, createRootCa, issueClientCertificate } from '../src/pki/index.js';
import { createLogger } from '../src/runtime/logger.js';
import { PEER_HEADERS } from '../src/policy/index.js';

const at = { file: 'bench', key: 'policy', line: 1 };

/** Mean microseconds of `fn` over `n` runs, after `warm` runs. */
async function micros(n: number, fn: (i: number) => unknown, warm = Math.min(n, 200)): Promise<number> {
  for (let i = 0; i < warm; i++) await fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

export async function verificationCost(): Promise<string[]> {
  const root = await createRootCa({ commonName: 'verify bench CA' });
  const intermediate = await createIntermediateCa(root, { commonName: 'verify bench intermediate' });
  const direct = await issueClientCertificate(root, { commonName: 'bench-direct', email: 'bench@example.com' });
  const deep = await issueClientCertificate(intermediate, { commonName: 'bench-deep', email: 'bench@example.com' });
  // A CRL of realistic size: a thousand revoked serials.
  const revoked = Array.from({ length: 1000 }, (_, i) => (0x100000 + i).toString(16));
  const crlPem = (await createCrl(root, revoked)) + (await createCrl(intermediate, revoked));
  const depth1: ClientTrust = { caPem: root.certPem, crlPem: '', maxVerifyDepth: 1, matchSubjectAltNames: [] };
  const depth2Crl: ClientTrust = {
    caPem: root.certPem,
    crlPem,
    maxVerifyDepth: 2,
    matchSubjectAltNames: [{ type: 'email', regex: '.*@example\\.com' }],
  };
  const now = Date.now();
  const ok = (r: ReturnType<typeof verifyClientCertificate>) => {
    if (!r.ok) throw new Error(r.reason);
  };

  const lines: string[] = [];
  const directMicros = await micros(2000, () => ok(verifyClientCertificate(direct.certPem, [], depth1, now)));
  lines.push(`verifyClientCertificate, no cache, leaf issued by the CA (depth 1): ${directMicros.toFixed(1)} µs`);
  const deepMicros = await micros(2000, () =>
    ok(verifyClientCertificate(deep.certPem, [intermediate.certPem], depth2Crl, now)),
  );
  lines.push(
    'verifyClientCertificate, no cache, leaf + intermediate, CRLs of 1000 entries, a SAN matcher (depth 2): ' +
      `${deepMicros.toFixed(1)} µs`,
  );

  const route = (trust: ClientTrust): AuthorizationRoute => ({
    name: 'r',
    audience: 'verify.bench.test',
    policy: {
      allow: [{ operator: 'or', criteria: [{ kind: 'user', match: [{ op: 'starts_with', value: 'bench' }], at }], at }],
      deny: [],
    },
    passIdentityHeaders: false,
    claimsHeaders: [],
    clientCaRequired: true,
    clientTrust: trust,
  });
  const checkOf = (leaf: string, chain?: string): CheckRequest => ({
    attributes: {
      context_extensions: { route: 'r' },
      source: { certificate: encodeURIComponent(leaf) },
      request: {
        http: { method: 'GET', path: '/', headers: chain ? { [PEER_HEADERS.chain]: encodeURIComponent(chain) } : {} },
      },
    },
  });
  for (const [what, trust, leaf, chain] of [
    ['depth 1', depth1, direct.certPem, undefined],
    ['depth 2 + CRL, chain header', depth2Crl, deep.certPem, deep.certPem + intermediate.certPem],
  ] as const) {
    const table = new Map([['r', route(trust)]]);
    const warm = new AuthorizationService({ table: () => table, signer: () => undefined, log: createLogger() });
    const request = checkOf(leaf, chain);
    const cached = await micros(50_000, async () => {
      const r = await warm.check(request);
      if (r.status.code !== 0) throw new Error(r.denied_response?.body);
    });
    // A one-entry verification cache and two alternating clients: every check verifies again.
    const cold = new AuthorizationService({
      table: () => table,
      signer: () => undefined,
      log: createLogger(),
      verificationCacheSize: 1,
    });
    const other = await issueClientCertificate(chain ? intermediate : root, {
      commonName: 'bench-other',
      email: 'bench@example.com',
    });
    const requests = [request, checkOf(other.certPem, chain ? other.certPem + intermediate.certPem : undefined)];
    const uncached = await micros(2000, async (i) => {
      const r = await cold.check(requests[i % 2]!);
      if (r.status.code !== 0) throw new Error(r.denied_response?.body);
    });
    lines.push(
      `check() in-process, ${what}: ${cached.toFixed(2)} µs with the verdict cached, ` +
        `${uncached.toFixed(1)} µs verifying every time`,
    );
  }
  return lines;
}

/**
 * Where the ext_authz time goes: one check in-process (route lookup, the certificate's identity from its
 * cache, the decision from its cache), without gRPC. What the policy bench's /extauthz route loses beyond this is gRPC,
 * HTTP/2 and protobuf in Node, on the cores Envoy and the load generator use too.
 */
export async function inProcessCheckMicros(cert: { ca: string; cert?: string }, host: string): Promise<number> {
  const at = { file: 'bench', key: 'policy', line: 1 };
  const route: AuthorizationRoute = {
    name: 'r',
    audience: host,
    policy: {
      allow: [{ operator: 'or', criteria: [{ kind: 'user', match: [{ op: 'starts_with', value: 'bench' }], at }], at }],
      deny: [],
    },
    passIdentityHeaders: false,
    claimsHeaders: [],
    clientCaRequired: true,
    // As the model builds it for client_ca_file: the certificate is verified (the verdict cached) before the policy.
    clientTrust: { caPem: cert.ca, crlPem: '', maxVerifyDepth: 0, matchSubjectAltNames: [] },
  };
  const table = new Map([[route.name, route]]);
  const service = new AuthorizationService({ table: () => table, signer: () => undefined, log: createLogger() });
  const check = {
    attributes: {
      context_extensions: { route: route.name },
      source: { certificate: encodeURIComponent(cert.cert ?? '') },
      request: { http: { method: 'GET', path: '/extauthz/' } },
    },
  };
  for (let i = 0; i < 1000; i++) await service.check(check);
  if ((await service.check(check)).status.code !== 0)
    throw new Error('the in-process check is denied: the measurement would be of the wrong path');
  const n = 100_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await service.check(check);
  return ((performance.now() - t0) * 1000) / n;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log('\nclient certificate verification in the ext_authz service (in-process, no gRPC):');
  for (const line of await verificationCost()) console.log(`  ${line}`);
}
