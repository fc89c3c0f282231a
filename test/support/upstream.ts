import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /**
   * Names and values as they arrived, in order, duplicates kept (`headers` merges them): [name, value, name, value,
   * …].
   */
  rawHeaders: string[];
}

export interface TestUpstream {
  name: string;
  port: number;
  url: string;
  /** Every request that reached this upstream. */
  seen: SeenRequest[];
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /** Serve HTTPS with this certificate instead of plain HTTP. */
  tls?: { cert: string; key: string };
  /** Wait this long before answering a path that contains `/slow`. */
  slowMs?: number;
}

/** A loopback server that answers `upstream <name> <path>` (200) and records what reached it. */
export async function startUpstream(name: string, options: UpstreamOptions = {}): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: [...req.rawHeaders] });
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
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
    : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
