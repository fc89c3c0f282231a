import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /**
   * Names and values as they arrived, in order, duplicates kept (`headers` merges them): [name, value, name, value,
   * …].
   */
  rawHeaders: string[];
  /** The client certificate's subject CN, when the upstream asked for one (`tls.clientCa`). */
  clientCn?: string;
}

export interface TestUpstream {
  name: string;
  port: number;
  url: string;
  /** Every request that reached this upstream. */
  seen: SeenRequest[];
  /** Why each TLS connection this upstream refused failed (Node's error codes), in order. */
  refusedHandshakes: string[];
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /**
   * Serve HTTPS with this certificate instead of plain HTTP; with `clientCa`, require a client certificate it
   * issued, as an upstream that accepts only the edge does.
   */
  tls?: { cert: string; key: string; clientCa?: string; maxVersion?: 'TLSv1.2' };
  /** Wait this long before answering a path that contains `/slow`. */
  slowMs?: number;
  /** Close each connection after this many requests (`Connection: close`): the edge keeps opening new ones. */
  maxRequestsPerSocket?: number;
}

/** A loopback server that answers `upstream <name> <path>` (200) and records what reached it. */
export async function startUpstream(name: string, options: UpstreamOptions = {}): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const peer = options.tls?.clientCa ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
    const clientCn = peer?.subject?.CN;
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: [...req.rawHeaders],
      ...(clientCn === undefined ? {} : { clientCn: String(clientCn) }),
    });
    const answer = () => {
      // `/status-NNN` in the path: answer with that status (the access log's boundaries).
      const status = /\/status-(\d{3})/.exec(req.url ?? '')?.[1];
      if (status) res.statusCode = Number(status);
      res.setHeader('content-type', 'text/plain');
      res.end(`upstream ${name} ${req.url}`);
    };
    if (options.slowMs && req.url?.includes('/slow')) setTimeout(answer, options.slowMs);
    else answer();
  };
  const server = options.tls
    ? createHttpsServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.clientCa ? { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          ...(options.tls.maxVersion ? { maxVersion: options.tls.maxVersion } : {}),
        },
        handler,
      )
    : createServer(handler);
  if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  const refusedHandshakes: string[] = [];
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => refusedHandshakes.push(err.code ?? err.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    refusedHandshakes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
