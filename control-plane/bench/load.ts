// Load-generation helpers shared by the benchmarks that drive a real Envoy (gate-bench, policy-bench,
// trust-bench): free ports, a closed-loop driver that reports requests/s (over the measured elapsed time) and
// p99, HTTP/1.1 and HTTP/2 clients that check the status and the body of every answer, and Envoy's CPU time
// from /proc. The processes they measure start in processes.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as connectH2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import type { SecureContext } from 'node:tls';

/** Ports handed out by this process: the OS may offer a just-closed port again, and one bench asks for several. */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

export interface Tls {
  ca: string;
  cert?: string;
  key?: string;
  /** A TLS session to offer for resumption. */
  session?: Buffer;
  /** Made once from ca, cert and key (Node then ignores those): a key parsed once, not per connection. */
  secureContext?: SecureContext;
}

export interface LoadResult {
  /** Completed requests (200 with the expected body) per second of measured elapsed time. */
  rps: number;
  /** Milliseconds. */
  p99: number;
  /** Requests that completed (200, right body). */
  requests: number;
  /** Requests that failed (any other answer, a wrong body, a connection error). */
  errors: number;
  /** From the first request's start until the last one in flight finished. */
  elapsedMs: number;
  /** What the first failed request said, if any. */
  firstError?: string;
}

/** The nearest-rank percentile `p` (0..100] of `sorted` (ascending); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

/** A timed run's figures: the rate over the elapsed time actually measured, never over the nominal duration. */
export function summarize(
  latencies: readonly number[],
  errors: number,
  elapsedMs: number,
  firstError?: string,
): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    rps: elapsedMs > 0 ? sorted.length / (elapsedMs / 1000) : NaN,
    p99: percentile(sorted, 99),
    requests: sorted.length,
    errors,
    elapsedMs,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Two runs of the same thing as one: their requests over their summed time, the mean p99. */
export function average(a: LoadResult, b: LoadResult): LoadResult {
  const requests = a.requests + b.requests;
  const elapsedMs = a.elapsedMs + b.elapsedMs;
  const firstError = a.firstError ?? b.firstError;
  return {
    rps: requests / (elapsedMs / 1000),
    p99: (a.p99 + b.p99) / 2,
    requests,
    errors: a.errors + b.errors,
    elapsedMs,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/**
 * Runs `worker` on `concurrency` loops that start requests for `seconds`; the rate divides the completed
 * requests by the time from the start until the last request in flight has finished. A worker that throws
 * counts as an error (not in the rate or the latency): the caller must treat a run with errors as invalid.
 */
export async function drive(seconds: number, concurrency: number, worker: () => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await worker();
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  return summarize(latencies, errors, performance.now() - start, firstError);
}

/**
 * As `drive`, at a fixed rate: the nth request starts n / rate seconds after the start, or at once when the loops
 * are behind. For CPU per request at the same load on two sides, whatever each side's limit; its latencies include
 * the wait, so they mean nothing.
 */
export async function drivePaced(
  seconds: number,
  concurrency: number,
  ratePerSecond: number,
  worker: () => Promise<unknown>,
): Promise<LoadResult> {
  let next = 0;
  const start = performance.now();
  return drive(seconds, concurrency, async () => {
    const due = start + (next++ * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return worker();
  });
}

/** A response that was not 200, or not the expected body; the message carries the status and the start of the body. */
class StatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    why = '',
  ) {
    super(`${status}${why}: ${body.slice(0, 300)}`);
  }
}

function checkAnswer(status: number, body: string, expectBody: string | undefined): StatusError | undefined {
  if (status !== 200) return new StatusError(status, body);
  if (expectBody !== undefined && body !== expectBody)
    return new StatusError(
      status,
      body,
      ` (expected the body ${JSON.stringify(expectBody)}: another upstream answered)`,
    );
  return undefined;
}

/** What a successful GET saw besides its body. */
export interface Answer {
  headers: Record<string, string | string[] | undefined>;
  /** HTTP/1.1 only: whether the TLS session was resumed (a "new handshake" must be a full one). */
  sessionReused?: boolean;
  /** HTTP/1.1 only: the connection's TLS session, to offer on the next one. */
  session?: Buffer;
}

/**
 * One GET over HTTP/1.1; resolves on 200 whose body is `expectBody` (when given), rejects with a StatusError
 * otherwise.
 */
export function h1Get(
  port: number,
  host: string,
  tls: Tls,
  agent: Agent | false,
  path = '/',
  expectBody?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, servername: host, headers: { host }, path, ...tls, agent },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket as { isSessionReused?: () => boolean; getSession?: () => Buffer | undefined };
        const sessionReused = socket.isSessionReused?.() ?? false;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const failure = checkAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString(), expectBody);
          if (failure) reject(failure);
          else resolve({ headers: res.headers, sessionReused, session: socket.getSession?.() });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * One GET on an HTTP/2 session; resolves on 200 whose body is `expectBody` (when given), rejects with a StatusError
 * otherwise.
 */
export function h2Get(session: ClientHttp2Session, host: string, path = '/', expectBody?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': path, ':authority': host });
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    s.on('response', (h) => (headers = h));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      const failure = checkAnswer(Number(headers[':status']), Buffer.concat(chunks).toString(), expectBody);
      if (failure) reject(failure);
      else resolve({ headers });
    });
    s.on('error', reject);
    s.end();
  });
}

export function h2Session(port: number, host: string, tls: Tls): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = connectH2(`https://127.0.0.1:${port}`, { servername: host, ...tls });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** utime + stime of a /proc/<pid>/stat line, in clock ticks (fields 14 and 15, man 5 proc). */
export function parseProcStatCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may itself hold spaces and ")": count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 100)}`);
  return utime + stime;
}

export function ticksToMicros(ticks: number, ticksPerSecond: number): number {
  return (ticks * 1_000_000) / ticksPerSecond;
}

let clockTicks: number | undefined;

/** The kernel's clock-tick rate for /proc times (`getconf CLK_TCK`; usually 100, but not always). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (!Number.isInteger(hz) || hz <= 0) throw new Error(`getconf CLK_TCK gave ${hz}`);
    clockTicks = hz;
  }
  return clockTicks;
}

/** User + system CPU time of a process so far, in microseconds (Linux /proc; `ticksPerSecond` for tests). */
export function cpuMicros(pid: number, ticksPerSecond = clockTicksPerSecond()): number {
  return ticksToMicros(parseProcStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')), ticksPerSecond);
}
