// The routes policy-bench.ts compares (no policy, one Envoy's RBAC decides, two the ext_authz service decides),
// how one of them is measured under each client mode, the checks of their answers, and the control plane's
// ext_authz figures from /metrics.
import type { ClientHttp2Session } from 'node:http2';
import { Agent } from 'node:https';
import { authzChecksAnswered, probe, type BenchChecks } from './checks.js';
import { drive, drivePaced, h1Get, h2Get, h2Session, type LoadResult, type Tls } from './load.js';

export const SECONDS = Number(process.env['POLICY_BENCH_SECONDS'] ?? 2);
export const HOST = 'policy.bench.test';

export const ROUTES = [
  {
    name: 'none',
    prefix: '/none',
    extAuthz: false,
    what: 'allow_any_authenticated_user, no policy (the baseline)',
    yaml: ['    allow_any_authenticated_user: true'],
  },
  {
    name: 'envoy',
    prefix: '/envoy',
    extAuthz: false,
    what: 'domain is example.com, decided by Envoy (RBAC)',
    yaml: ['    policy:', '      allow:', '        or:', '          - domain: { is: example.com }'],
  },
  {
    name: 'extauthz',
    prefix: '/extauthz',
    extAuthz: true,
    what: 'user starts_with bench, decided by the ext_authz service',
    yaml: ['    policy:', '      allow:', '        or:', '          - user: { starts_with: bench }'],
  },
  {
    name: 'identity',
    prefix: '/identity',
    extAuthz: true,
    what: "/envoy's policy + pass_identity_headers (ext_authz, ES256 JWT per certificate, cached)",
    yaml: [
      '    policy:',
      '      allow:',
      '        or:',
      '          - domain: { is: example.com }',
      '    pass_identity_headers: true',
    ],
  },
] as const;
export type Route = (typeof ROUTES)[number];
export type Mode = 'h1 keep-alive' | 'h2 keep-alive' | 'h1 new handshake';
export const MODES: Mode[] = ['h1 keep-alive', 'h2 keep-alive', 'h1 new handshake'];

/**
 * One measurement of one route. Keep-alive modes hold one connection per certificate (20) and cycle
 * through them request by request (HTTP/1.1: 8 requests in flight; HTTP/2: 16); the handshake mode makes a
 * new connection per request (4 in flight), cycling the certificate.
 */
export async function measure(
  mode: Mode,
  port: number,
  route: Route,
  clients: Tls[],
  body: string,
  /** Requests per second for the keep-alive modes; as fast as they go when absent. */
  rate?: number,
): Promise<LoadResult> {
  let next = 0;
  const pick = () => next++ % clients.length;
  const path = `${route.prefix}/`;
  const run = (concurrency: number, worker: () => Promise<unknown>) =>
    rate === undefined ? drive(SECONDS, concurrency, worker) : drivePaced(SECONDS, concurrency, rate, worker);
  if (mode === 'h1 keep-alive') {
    const agents = clients.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      return await run(8, () => {
        const i = pick();
        return h1Get(port, HOST, clients[i]!, agents[i]!, path, body);
      });
    } finally {
      for (const a of agents) a.destroy();
    }
  }
  if (mode === 'h1 new handshake')
    return drive(SECONDS, 4, () => h1Get(port, HOST, clients[pick()]!, false, path, body));
  const sessions: ClientHttp2Session[] = await Promise.all(clients.map((tls) => h2Session(port, HOST, tls)));
  try {
    return await run(16, () => h2Get(sessions[pick()]!, HOST, path, body));
  } finally {
    for (const s of sessions) s.close();
  }
}

interface Metrics {
  hits: number;
  misses: number;
  /** ext_authz checks answered (mtls_edge_authz_decisions_total, summed over its labels). */
  checks: number;
  decisions: string[];
}

export async function readMetrics(adminPort: number): Promise<Metrics> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const gauge = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`${name} is not in the control plane's /metrics`);
    return Number(m[1]);
  };
  const decisions = text.split('\n').filter((l) => l.startsWith('mtls_edge_authz_decisions_total{'));
  return {
    hits: gauge('mtls_edge_authz_cache_hits_total'),
    misses: gauge('mtls_edge_authz_cache_misses_total'),
    checks: authzChecksAnswered(text),
    decisions,
  };
}

export function hitRate(hits: number, misses: number): string {
  return hits + misses === 0 ? 'n/a (no ext_authz checks)' : `${((100 * hits) / (hits + misses)).toFixed(2)} %`;
}

/** Each route answers as the table says it does, before anything is timed. */
export async function checkRoutes(
  checks: BenchChecks,
  port: number,
  bench0: Tls,
  outsider: Tls,
  body: string,
): Promise<void> {
  for (const r of ROUTES) {
    const ok = await probe('HTTP/1.1', port, HOST, bench0, `${r.prefix}/__headers`);
    if (
      !checks.expect(
        'status' in ok && ok.status === 200,
        `${r.prefix} answered ${JSON.stringify(ok).slice(0, 500)} to bench-0 (expected 200)`,
      ) ||
      !('body' in ok)
    )
      continue;
    const jwt = 'x-pomerium-jwt-assertion' in (JSON.parse(ok.body) as Record<string, string>);
    checks.expect(
      jwt === (r.name === 'identity'),
      `${r.prefix}: the upstream request ${jwt ? 'carries' : 'lacks'} x-pomerium-jwt-assertion`,
    );
    const plain = await probe('HTTP/1.1', port, HOST, bench0, `${r.prefix}/`);
    checks.expect(
      'body' in plain && plain.body === body,
      `${r.prefix}: bench-0 must get the upstream's own body, got ${JSON.stringify(plain).slice(0, 300)}`,
    );
    const denied = await probe('HTTP/1.1', port, HOST, outsider, `${r.prefix}/`);
    const expected = r.name === 'none' ? 200 : 403;
    checks.expect(
      'status' in denied && denied.status === expected,
      `${r.prefix} answered ${JSON.stringify(denied).slice(0, 500)} to outsider (expected ${expected})`,
    );
  }
}
