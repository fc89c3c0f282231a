// How sign-in-bench.ts loads one route: keep-alive connections over HTTP/1.1 or HTTP/2 that send the same headers
// on every request (the session cookies on the signed-in side, nothing of the kind on the public one), every
// answer checked (200 and the upstream's own body), each request timed for p50 and p99; and what Envoy did in the
// meantime: its CPU time and the counters of the filters the signed-in side is meant to pay for.
// load.ts's h1Get and h2Get send no headers of the caller's, so the requests are made here, on its drive().
import type { ClientHttp2Session } from 'node:http2';
import { Agent, request } from 'node:https';
import { cpuMicros, drive, h2Session, percentile, type LoadResult } from '../../control-plane/bench/load.js';

export type Mode = 'HTTP/1.1 keep-alive' | 'HTTP/2 keep-alive';
export const MODES: readonly Mode[] = ['HTTP/1.1 keep-alive', 'HTTP/2 keep-alive'];
/** As policy-bench's keep-alive modes: 8 requests in flight over HTTP/1.1 (one per connection), 16 over HTTP/2. */
const IN_FLIGHT: Record<Mode, number> = { 'HTTP/1.1 keep-alive': 8, 'HTTP/2 keep-alive': 16 };
const H2_SESSIONS = 4;

export interface Target {
  port: number;
  host: string;
  /** The edge's server certificate's CA. */
  ca: string;
  /** Envoy's admin port, for its counters. */
  envoyAdmin: number;
  envoyPid: number;
  /** What the upstream answers: any other body came from elsewhere (a sign-in page, an error). */
  body: string;
  /** Requests the IdP's token endpoint has had so far: a session renewed instead of taken as it came. */
  idpTokenRequests(): number;
}

export interface Side {
  name: 'public' | 'signed-in';
  path: string;
  headers: Record<string, string>;
}

export interface Run extends LoadResult {
  /** Milliseconds. */
  p50: number;
  /** Envoy's CPU time (all its threads) over the run, divided by the requests made. */
  envoyMicrosPerRequest: number;
  /** How much each of COUNTERS grew during the run. */
  counted: Record<Counter, number>;
  /** Requests to the IdP's token endpoint during the run. */
  idpTokenRequests: number;
}

/**
 * Envoy's counters (summed over its listeners' connection managers) that show what the signed-in side pays for:
 * the oauth2 filter passing a session cookie, jwt_authn verifying the ID token, RBAC allowing the claims.
 */
export const COUNTERS = {
  'oauth2 success': /^http\.[^.]+\.sign_in\.oauth_success$/,
  // Each token checked is a hit or a miss of jwt_authn's cache of verified tokens (jwt_cache_config): a session sends
  // the same token each time, so after the first miss its requests are hits (the token's expiry is still checked).
  // (jwt_authn's `allowed` is no use here: it also counts the requests of routes that require no token.)
  'jwt_authn checked (cache hit or miss)': /^http\.[^.]+\.jwt_authn\.jwt_cache_(hit|miss)$/,
  'rbac allowed': /^http\.[^.]+\.rbac\.allowed$/,
} as const;
export type Counter = keyof typeof COUNTERS;

async function readCounters(envoyAdmin: number): Promise<Record<Counter, number>> {
  const text = await (await fetch(`http://127.0.0.1:${envoyAdmin}/stats?type=Counters`)).text();
  const sums = Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as Record<Counter, number>;
  for (const line of text.split('\n')) {
    const at = line.lastIndexOf(': ');
    if (at < 0) continue;
    const name = line.slice(0, at);
    for (const [counter, re] of Object.entries(COUNTERS) as Array<[Counter, RegExp]>)
      if (re.test(name)) sums[counter] += Number(line.slice(at + 2));
  }
  return sums;
}

function answerError(status: number | undefined, body: string): Error {
  return new Error(`${status ?? 'no status'}: ${body.slice(0, 200)}`);
}

function h1Get(t: Target, agent: Agent, side: Side): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = { host: t.host, ...side.headers };
    const req = request(
      { host: '127.0.0.1', port: t.port, servername: t.host, ca: t.ca, agent, path: side.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          if (res.statusCode === 200 && body === t.body) resolve();
          else reject(answerError(res.statusCode, body));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function h2Get(t: Target, session: ClientHttp2Session, side: Side): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': side.path, ':authority': t.host, ...side.headers });
    let status: number | undefined;
    const chunks: Buffer[] = [];
    s.on('response', (h) => (status = Number(h[':status'])));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (status === 200 && body === t.body) resolve();
      else reject(answerError(status, body));
    });
    s.on('error', reject);
    s.end();
  });
}

/** One timed run of `side` for `seconds` on new keep-alive connections (made within the run on both sides alike). */
export async function measure(t: Target, mode: Mode, side: Side, seconds: number): Promise<Run> {
  const latencies: number[] = [];
  const timed = (get: () => Promise<void>) => async () => {
    const t0 = performance.now();
    await get();
    latencies.push(performance.now() - t0);
  };
  const before = await readCounters(t.envoyAdmin);
  const cpuBefore = cpuMicros(t.envoyPid);
  const tokensBefore = t.idpTokenRequests();
  let result: LoadResult;
  if (mode === 'HTTP/1.1 keep-alive') {
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT[mode] });
    try {
      result = await drive(
        seconds,
        IN_FLIGHT[mode],
        timed(() => h1Get(t, agent, side)),
      );
    } finally {
      agent.destroy();
    }
  } else {
    const sessions = await Promise.all(
      Array.from({ length: H2_SESSIONS }, () => h2Session(t.port, t.host, { ca: t.ca })),
    );
    let next = 0;
    try {
      result = await drive(
        seconds,
        IN_FLIGHT[mode],
        timed(() => h2Get(t, sessions[next++ % sessions.length]!, side)),
      );
    } finally {
      for (const s of sessions) s.close();
    }
  }
  const cpu = cpuMicros(t.envoyPid) - cpuBefore;
  const after = await readCounters(t.envoyAdmin);
  latencies.sort((a, b) => a - b);
  const made = result.requests + result.errors;
  return {
    ...result,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    envoyMicrosPerRequest: made > 0 ? cpu / made : NaN,
    idpTokenRequests: t.idpTokenRequests() - tokensBefore,
    counted: Object.fromEntries((Object.keys(COUNTERS) as Counter[]).map((k) => [k, after[k] - before[k]])) as Record<
      Counter,
      number
    >,
  };
}
