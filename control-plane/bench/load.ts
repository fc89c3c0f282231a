// Load-generation helpers shared by the benchmarks that drive a real Envoy (gate-bench, policy-bench):
// free ports, a closed-loop driver that reports requests/s and p99, HTTP/1.1 and HTTP/2 clients, and
// starting `mtls-edge run` from a config file and waiting until it is ready.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Tls {
  ca: string;
  cert?: string;
  key?: string;
}

export interface LoadResult {
  rps: number;
  /** Milliseconds. */
  p99: number;
  errors: number;
}

export function average(a: LoadResult, b: LoadResult): LoadResult {
  return { rps: (a.rps + b.rps) / 2, p99: (a.p99 + b.p99) / 2, errors: a.errors + b.errors };
}

/**
 * Runs `worker` on `concurrency` loops for `seconds`; returns requests per second and p99 latency (ms).
 * A worker that throws counts as an error (not in the rate or the latency); `onError` sees the first few.
 */
export async function drive(seconds: number, concurrency: number, worker: () => Promise<void>, onError?: (err: unknown) => void): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await worker();
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (onError && errors <= 3) onError(err);
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN, errors };
}

/** A response that was not 200; the message carries the status and the start of the body. */
export class StatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`${status}: ${body.slice(0, 300)}`);
  }
}

/** One GET over HTTP/1.1; resolves on 200 (body discarded), rejects with a StatusError otherwise. */
export function h1Get(port: number, host: string, tls: Tls, agent: Agent | false, path = '/'): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: host, headers: { host }, path, ...tls, agent }, (res) => {
      if (res.statusCode === 200) {
        res.resume();
        res.on('end', resolve);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(new StatusError(res.statusCode ?? 0, Buffer.concat(chunks).toString())));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One GET on an HTTP/2 session; resolves on 200 (body discarded), rejects with a StatusError otherwise. */
export function h2Get(session: ClientHttp2Session, host: string, path = '/'): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': path, ':authority': host });
    let status = 0;
    const chunks: Buffer[] = [];
    s.on('response', (h) => (status = Number(h[':status'])));
    s.on('data', (c: Buffer) => {
      if (status !== 200) chunks.push(c);
    });
    s.on('end', () => (status === 200 ? resolve() : reject(new StatusError(status, Buffer.concat(chunks).toString()))));
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

export interface EdgePorts {
  port: number;
  admin: number;
  xds: number;
  envoyAdmin: number;
}

/** Four free loopback ports, and the config lines that put the edge on them. */
export async function edgePorts(): Promise<EdgePorts & { yaml: string[] }> {
  const [port, admin, xds, envoyAdmin] = [await freePort(), await freePort(), await freePort(), await freePort()];
  return {
    port,
    admin,
    xds,
    envoyAdmin,
    yaml: [`address: 127.0.0.1:${port}`, `admin_address: 127.0.0.1:${admin}`, `xds_address: 127.0.0.1:${xds}`, `envoy_admin_address: 127.0.0.1:${envoyAdmin}`],
  };
}

export interface RunningEdge {
  child: ChildProcess;
  /** SIGTERM, and wait until the control plane (and with it Envoy) has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `mtls-edge run --config FILE --envoy-concurrency 1` and waits until the control plane's /readyz
 * answers 200 (every Envoy has ACKed the config). `stdio` defaults to 'ignore'.
 */
export async function startEdge(config: string, adminPort: number, stdio: StdioOptions = 'ignore', args: string[] = []): Promise<RunningEdge> {
  const child = spawn(process.execPath, [CLI, 'run', '--config', config, '--envoy-concurrency', '1', ...args], { stdio, env: { ...process.env, LOG_LEVEL: 'warn' } });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200) return { child, stop };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(child.exitCode !== null ? `the edge exited with code ${child.exitCode} before it was ready` : 'edge did not become ready');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
