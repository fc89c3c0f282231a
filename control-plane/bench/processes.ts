// The processes a benchmark measures: an upstream that answers a token of its own, and `mtls-edge run`
// started and waited for until it is ready, on free loopback ports.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from './load.js';

/** The bundled CLI, as bin/mtls-edge.js runs it (scripts/bundle.mjs). */
export const CLI = fileURLToPath(new URL('../../mtls-edge.mjs', import.meta.url));

export interface Upstream {
  port: number;
  /** What the upstream answers (a token of this run): a response with another body came from elsewhere. */
  body: string;
  stop(): Promise<void>;
}

/**
 * An upstream in its own process, so that it does not share the load generator's event loop. It answers
 * `body`, and echoes the request headers as JSON on any path ending in /__headers; resolves once it listens.
 */
export async function startUpstream(body: string): Promise<Upstream> {
  const script =
    "const s=require('http').createServer((q,r)=>r.end(" +
    "q.url.endsWith('/__headers')?JSON.stringify(q.headers):process.env.UPSTREAM_BODY));" +
    "s.listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, UPSTREAM_BODY: body },
  });
  const exited = once(child, 'exit');
  const [line] = (await Promise.race([once(child.stdout, 'data'), exited.then(() => [undefined])])) as [
    Buffer | undefined,
  ];
  if (!line) throw new Error('the upstream exited before it listened');
  return {
    port: Number(line.toString().trim()),
    body,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill();
      await exited;
    },
  };
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
    yaml: [
      `address: 127.0.0.1:${port}`,
      `admin_address: 127.0.0.1:${admin}`,
      `xds_address: 127.0.0.1:${xds}`,
      `envoy_admin_address: 127.0.0.1:${envoyAdmin}`,
    ],
  };
}

export interface RunningEdge {
  child: ChildProcess;
  /** SIGTERM, and wait until the control plane (and with it Envoy) has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `mtls-edge run --config FILE --envoy-concurrency 1` and waits until the control plane's /synced
 * answers 200 (every Envoy has ACKed the config). `stdio` defaults to 'ignore'; the log level to warn (no access
 * log lines); `cli` to this build's.
 */
export async function startEdge(
  config: string,
  adminPort: number,
  stdio: StdioOptions = 'ignore',
  args: string[] = [],
  options: { logLevel?: string; cli?: string } = {},
): Promise<RunningEdge> {
  const cli = options.cli ?? CLI;
  const child = spawn(process.execPath, [cli, 'run', '--config', config, '--envoy-concurrency', '1', ...args], {
    stdio,
    env: { ...process.env, LOG_LEVEL: options.logLevel ?? 'warn' },
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${adminPort}/synced`)).status === 200) return { child, stop };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        child.exitCode !== null
          ? `the edge exited with code ${child.exitCode} before it was ready`
          : 'edge did not become ready',
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
