import { createServer, connect, type Server, type Socket } from 'node:net';

// A layer-4 balancer as clouds run them in front of Envoys: it asks each backend's health endpoint every
// `intervalMs` and sends each new connection to the next backend whose last answer was 200. Connections already
// made stay where they are (a balancer cannot move them): only the backend can close them.

export interface Backend {
  port: number;
  healthUrl: string;
}

export interface TcpBalancer {
  port: number;
  /** New connections each backend got, by index. */
  connections: number[];
  /** Each backend's health as the balancer last saw it. */
  healthy: boolean[];
  /** Each backend's health answers in order (a status, or 0 when the port refused), changes only. */
  answers: number[][];
  close(): Promise<void>;
}

export async function startTcpBalancer(backends: Backend[], intervalMs = 100): Promise<TcpBalancer> {
  const healthy = backends.map(() => false);
  const answers: number[][] = backends.map(() => []);
  const connections = backends.map(() => 0);
  const sockets = new Set<Socket>();
  let next = 0;
  let closed = false;
  const probe = async (i: number) => {
    const res = await fetch(backends[i]!.healthUrl, { signal: AbortSignal.timeout(intervalMs * 5) }).catch(
      () => undefined,
    );
    healthy[i] = res?.status === 200;
    const seen = answers[i]!;
    if (seen.at(-1) !== (res?.status ?? 0)) seen.push(res?.status ?? 0);
    await res?.arrayBuffer();
  };
  const probing = (async () => {
    while (!closed) {
      await Promise.all(backends.map((_, i) => probe(i)));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  await Promise.all(backends.map((_, i) => probe(i)));
  const server: Server = createServer((client) => {
    if (closed) return void client.destroy();
    const candidates = backends.map((_, i) => (next + i) % backends.length).filter((i) => healthy[i]);
    const chosen = candidates[0];
    if (chosen === undefined) return void client.destroy();
    next = chosen + 1;
    connections[chosen]!++;
    const upstream = connect(backends[chosen]!.port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('balancer: no port');
  return {
    port: address.port,
    connections,
    healthy,
    answers,
    // Idempotent: the test closes it, and so does its `after` hook in case the test timed out first.
    close: async () => {
      if (closed) return;
      closed = true;
      await probing;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
