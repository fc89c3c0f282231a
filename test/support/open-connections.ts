import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { connect as connectTls, type TLSSocket } from 'node:tls';

/** What one request on an open connection got: a response, or the error that ended it (the connection was closed). */
export type Outcome = { status: number; body: string; connectionClose: boolean } | { error: string };

/** One TLS connection kept open across requests: every request goes over it, or fails; it never reconnects. */
export interface OpenConnection {
  protocol: 'HTTP/1.1' | 'HTTP/2';
  /** `authority`: the Host (HTTP/1.1) or :authority (HTTP/2) to ask for, by default the connection's SNI. */
  get(path: string, authority?: string): Promise<Outcome>;
  close(): void;
  /** HTTP/1.1 only: whether the handshake resumed the session offered in `ConnectOptions.session`. */
  resumed?: boolean;
}

export interface ConnectOptions {
  port: number;
  servername: string;
  ca: string;
  /** Absent: no client certificate. */
  cert?: string;
  key?: string;
  /** HTTP/1.1 only: a TLS session to offer for resumption. */
  session?: Buffer;
}

/** HTTP/1.1 keep-alive over one raw TLS socket: requests are written by hand and answers read by Content-Length. */
export async function openHttp1(o: ConnectOptions): Promise<OpenConnection> {
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const s = connectTls(
      {
        host: '127.0.0.1',
        port: o.port,
        servername: o.servername,
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        ALPNProtocols: ['http/1.1'],
        ...(o.session ? { session: o.session } : {}),
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  let buffer = Buffer.alloc(0);
  let closed: string | undefined;
  let waiter: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    waiter?.();
  });
  const end = (why: string) => {
    closed ??= why;
    waiter?.();
  };
  socket.on('end', () => end('connection closed by the server'));
  socket.on('close', () => end('connection closed'));
  socket.on('error', (e: Error) => end(e.message));

  const readResponse = async (): Promise<Outcome> => {
    for (;;) {
      const head = buffer.indexOf('\r\n\r\n');
      if (head >= 0) {
        const headers = buffer.subarray(0, head).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
        if (buffer.length >= head + 4 + length) {
          const body = buffer.subarray(head + 4, head + 4 + length).toString('utf8');
          buffer = buffer.subarray(head + 4 + length);
          return {
            status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0),
            body,
            connectionClose: /\r\nconnection: *close/i.test(headers),
          };
        }
      }
      if (closed) return { error: closed };
      await new Promise<void>((resolve) => (waiter = resolve));
      waiter = undefined;
    }
  };
  return {
    protocol: 'HTTP/1.1',
    get: async (path, authority = o.servername) => {
      if (closed) return { error: closed };
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      return readResponse();
    },
    close: () => socket.destroy(),
    resumed: socket.isSessionReused(),
  };
}

/** HTTP/2 over one session; a request after the server's GOAWAY fails instead of opening another connection. */
export async function openHttp2(o: ConnectOptions): Promise<OpenConnection> {
  const session: ClientHttp2Session = connectH2(`https://${o.servername}:${o.port}`, {
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    servername: o.servername,
    createConnection: () =>
      connectTls({
        host: '127.0.0.1',
        port: o.port,
        servername: o.servername,
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        ALPNProtocols: ['h2'],
      }),
  });
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return {
    protocol: 'HTTP/2',
    get: (path, authority = o.servername) =>
      new Promise<Outcome>((resolve) => {
        if (session.closed || session.destroyed)
          return resolve({ error: `session closed${goaway ? ' (GOAWAY)' : ''}` });
        try {
          const req = session.request({ ':path': path, ':authority': authority });
          let status = 0;
          let body = '';
          req.on('response', (h) => (status = Number(h[':status'])));
          req.setEncoding('utf8');
          req.on('data', (d: string) => (body += d));
          req.on('end', () => resolve({ status, body, connectionClose: goaway }));
          req.on('error', (e: Error) => resolve({ error: `${e.message}${goaway ? ' (GOAWAY)' : ''}` }));
          req.end();
        } catch (e) {
          resolve({ error: (e as Error).message });
        }
      }),
    close: () => session.destroy(),
  };
}

export const openConnection = { 'HTTP/1.1': openHttp1, 'HTTP/2': openHttp2 } as const;

export interface AcrossTheChange {
  /** Opens a connection of either protocol to the edge for `client` (a certificate, or none). */
  connect(protocol: 'HTTP/1.1' | 'HTTP/2', client: { cert?: string; key?: string }): Promise<OpenConnection>;
  /** Applies the change and resolves once every Envoy has acknowledged it. */
  change(): Promise<void>;
  /** Paths that reached the upstream. */
  upstreamPaths(): string[];
  refused: { cert?: string; key?: string };
  /** What the refused client gets on its open connection (a closed connection also passes); 495 by default. */
  refusedStatus?: number;
  kept?: { cert?: string; key?: string };
  /** What the kept client gets on its open connection; 200 (and the upstream reached) by default. */
  keptStatus?: number;
  log(line: string): void;
}

/**
 * Opens a connection per protocol for each client and checks each is served (200); applies the change; then
 * asks each connection again: the refused client must get `refusedStatus` (or a closed connection) and never
 * reach the upstream, the kept one must get `keptStatus` on the same connection.
 */
export async function acrossTheChange(o: AcrossTheChange): Promise<void> {
  const tag = Math.random().toString(36).slice(2, 8);
  const open: Array<{ who: 'refused' | 'kept'; conn: OpenConnection }> = [];
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new Error(message);
  };
  try {
    for (const protocol of ['HTTP/1.1', 'HTTP/2'] as const) {
      for (const [who, client] of [
        ['refused', o.refused],
        ['kept', o.kept],
      ] as const) {
        if (!client) continue;
        const conn = await o.connect(protocol, client);
        open.push({ who, conn });
        const first = await conn.get(`/${tag}/before`);
        check(
          'status' in first && first.status === 200,
          `${protocol} ${who}: not served before the change: ${JSON.stringify(first).slice(0, 300)}`,
        );
      }
    }
    await o.change();
    for (const { who, conn } of open) {
      const path = `/${tag}/after/${who}/${conn.protocol}`;
      const outcome = await conn.get(path);
      o.log(
        `${conn.protocol} ${who}: ` +
          ('status' in outcome ? `${outcome.status}${outcome.connectionClose ? ' (then closed)' : ''}` : outcome.error),
      );
      const reached = o.upstreamPaths().filter((p) => p === path).length;
      if (who === 'refused') {
        if ('status' in outcome)
          check(
            outcome.status === (o.refusedStatus ?? 495),
            `${conn.protocol}: expected ${o.refusedStatus ?? 495}, ` +
              `got ${outcome.status}: ${outcome.body.slice(0, 200)}`,
          );
        check(reached === 0, `${conn.protocol}: the refused request reached the upstream`);
      } else {
        check(
          'status' in outcome,
          `${conn.protocol}: the unaffected connection was dropped: ${JSON.stringify(outcome)}`,
        );
        const status = 'status' in outcome ? outcome.status : 0;
        check(
          status === (o.keptStatus ?? 200),
          `${conn.protocol}: expected ${o.keptStatus ?? 200} for the kept client, got ${status}`,
        );
        check(
          reached === (status === 200 ? 1 : 0),
          `${conn.protocol}: the kept request reached the upstream ${reached} times`,
        );
      }
    }
  } finally {
    for (const { conn } of open) conn.close();
  }
}
