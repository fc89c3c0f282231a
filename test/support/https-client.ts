import { request, type Agent } from 'node:https';
import { connect } from 'node:tls';

export interface ClientRequest {
  port: number;
  /** SNI sent in the handshake. */
  servername: string;
  /** Host header; defaults to the servername. */
  host?: string;
  path?: string;
  /** Trust anchor for the server certificate. */
  ca: string;
  cert?: string;
  key?: string;
  headers?: Record<string, string>;
  /** GET unless set. */
  method?: string;
  /** Also return the response headers. */
  includeHeaders?: boolean;
  /** A keep-alive agent whose connection the request may reuse; a fresh connection when absent. */
  agent?: Agent;
}

export interface ClientResponse {
  status: number;
  body: string;
  /** Response headers (lower-case names), when the client saw them. */
  headers?: Record<string, string | string[] | undefined>;
  /** With an agent: the client's port, which says which connection carried the request. */
  localPort?: number;
}

/** One HTTPS request over a fresh TLS connection to 127.0.0.1, with the given SNI and optional client certificate. */
export function httpsGet(r: ClientRequest): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: r.port,
        path: r.path ?? '/',
        method: r.method ?? 'GET',
        servername: r.servername,
        headers: { ...r.headers, host: r.host ?? r.servername },
        ca: r.ca,
        cert: r.cert,
        key: r.key,
        agent: r.agent ?? false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        const localPort = res.socket.localPort ?? 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            // Only where a connection may carry several requests: results compare whole elsewhere.
            ...(r.agent ? { localPort } : {}),
            ...(r.includeHeaders ? { headers: res.headers } : {}),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The request must fail during or right after the TLS handshake; resolves with the error's code. */
export async function expectHandshakeRefused(r: ClientRequest): Promise<string> {
  try {
    const res = await httpsGet(r);
    throw new Error(`expected the TLS handshake to be refused, got HTTP ${res.status}: ${res.body.slice(0, 100)}`);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.message.startsWith('expected the TLS handshake')) throw err;
    return err.code ?? err.message;
  }
}

/**
 * An HTTP/1.1 request written by hand over node:tls, for what https.request will not do:
 * no SNI at all (`servername` omitted), or any Host header on any connection.
 */
export function rawHttp1(r: {
  port: number;
  servername?: string;
  host: string;
  path: string;
  cert?: string;
  key?: string;
}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port: r.port,
        servername: r.servername,
        cert: r.cert,
        key: r.key,
        rejectUnauthorized: false,
      },
      () => {
        socket.write(`GET ${r.path} HTTP/1.1\r\nHost: ${r.host}\r\nConnection: close\r\n\r\n`);
      },
    );
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (raw += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
      resolve({ status, body: raw.slice(raw.indexOf('\r\n\r\n') + 4) });
    });
  });
}
