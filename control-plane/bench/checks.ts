// What makes a bench honest: the checks that what it measures is what it claims, and the rule that a run
// with a failed check prints no verdict ("met"/"missed") at all, only why it is invalid, and exits non-zero.
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { request } from 'node:https';
import { h2Session, type LoadResult, type Tls } from './load.js';

/** A target's line: `render` gets "met" or "missed". */
export interface Target {
  met: boolean;
  render(word: 'met' | 'missed'): string;
}

/**
 * The lines a run ends with: the targets' verdicts when every check passed; otherwise one INVALID line with
 * every failure, and no verdict (figures from a run that measured something else must not read as met).
 */
export function closingLines(failures: readonly string[], targets: readonly Target[]): string[] {
  if (failures.length > 0) return [`INVALID: ${failures.length} check(s) failed, no verdict: ${failures.join('; ')}`];
  return ['checks: all passed', ...targets.map((t) => t.render(t.met ? 'met' : 'missed'))];
}

/** Thrown by stopIfFailed: the failures are recorded already. */
class ChecksFailed extends Error {}

export class BenchChecks {
  readonly failures: string[] = [];
  private readonly targets: Target[] = [];

  fail(why: string): void {
    this.failures.push(why);
    console.log(`CHECK FAILED: ${why}`);
  }

  expect(ok: boolean, why: string): boolean {
    if (!ok) this.fail(why);
    return ok;
  }

  /** A timed run in which a request failed measured something else than it says: the run is invalid. */
  noErrors(what: string, r: LoadResult): void {
    if (r.errors > 0)
      this.fail(`${what}: ${r.errors} of ${r.requests + r.errors} requests failed (first: ${r.firstError ?? '?'})`);
  }

  get passed(): boolean {
    return this.failures.length === 0;
  }

  /** Stops the bench before it times anything on a set-up that failed its checks. */
  stopIfFailed(stage: string): void {
    if (!this.passed) throw new ChecksFailed(`${stage}: checks failed, nothing more timed`);
  }

  /** Printed at the end (finish), and only if every check of the run passed. */
  target(met: boolean, render: (word: 'met' | 'missed') => string): void {
    this.targets.push({ met, render });
  }

  finish(): void {
    for (const line of closingLines(this.failures, this.targets)) console.log(line);
    if (!this.passed) process.exitCode = 1;
  }
}

/**
 * Runs a bench's body with its checks; whatever it throws (a check that stops it, a request that could not be
 * made, a process that did not start) makes the run invalid: INVALID and a non-zero exit, no verdict.
 */
export async function runBench(body: (checks: BenchChecks) => Promise<void>): Promise<void> {
  const checks = new BenchChecks();
  try {
    await body(checks);
  } catch (err) {
    // A check that stopped the bench has said why already; anything else says it here.
    if (err instanceof ChecksFailed) console.log(err.message);
    else {
      checks.failures.push(`the bench stopped: ${err instanceof Error ? err.message : String(err)}`);
      console.error(err instanceof Error ? err.stack : err);
    }
  }
  checks.finish();
}

/** What one GET got: a status and body, or the error that ended it before any response (a refused handshake). */
export type Outcome = { status: number; body: string } | { error: string };

/** One GET on a new connection, over HTTP/1.1 or HTTP/2, for the checks before a timed run: never rejects. */
export async function probe(
  protocol: 'HTTP/1.1' | 'HTTP/2',
  port: number,
  host: string,
  tls: Tls,
  path = '/',
): Promise<Outcome> {
  const errorOf = (err: unknown): Outcome => ({ error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
  if (protocol === 'HTTP/1.1') {
    return new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, servername: host, headers: { host }, path, ...tls, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', (err) => resolve(errorOf(err)));
        },
      );
      req.on('error', (err) => resolve(errorOf(err)));
      req.end();
    });
  }
  let session: ClientHttp2Session | undefined;
  try {
    session = await h2Session(port, host, tls);
    const connection = session;
    return await new Promise<Outcome>((resolve) => {
      const s = connection.request({ ':path': path, ':authority': host });
      let status = 0;
      const chunks: Buffer[] = [];
      s.on('response', (h: IncomingHttpHeaders) => (status = Number(h[':status'])));
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      // A refused handshake under TLS 1.3 arrives after 'connect', as an alert that ends the session.
      connection.on('error', (err) => resolve(errorOf(err)));
      s.on('error', (err) => resolve(errorOf(err)));
      s.on('close', () =>
        resolve(
          status
            ? { status, body: Buffer.concat(chunks).toString() }
            : { error: `the stream closed without a response (code ${s.rstCode})` },
        ),
      );
      s.end();
    });
  } catch (err) {
    return errorOf(err);
  } finally {
    session?.destroy();
  }
}

/**
 * ext_authz checks the control plane has answered: mtls_edge_authz_decisions_total summed over its labels, from
 * /metrics text.
 */
export function authzChecksAnswered(metrics: string): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith('mtls_edge_authz_decisions_total{'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
