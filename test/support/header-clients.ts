import { connect as connectH2, type OutgoingHttpHeaders } from 'node:http2';
import { connect as connectTls } from 'node:tls';

/** What a request got: a response, or the error that ended it (a reset stream, a closed connection). */
export type SendOutcome = { status: number; body: string } | { error: string };

export interface HeaderRequest {
  port: number;
  /** SNI, and the Host / :authority asked for. */
  servername: string;
  /** Trust anchor for the server certificate. */
  ca: string;
  cert?: string;
  key?: string;
  path: string;
  /**
   * Extra request headers as [name, value] pairs, in order, each pair its own header: a name may repeat
   * (a duplicated header), and over HTTP/1.1 its case is sent exactly as given.
   */
  headers: Array<[string, string]>;
}

const TIMEOUT_MS = 10_000;

/**
 * HTTP/1.1 written by hand over node:tls: node's own client would merge or re-case the headers, and a test
 * of what Envoy does with `X-Pomerium-JWT-Assertion` next to `x-pomerium-jwt-assertion` needs both on the wire.
 */
export function sendHttp1(r: HeaderRequest): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const lines = r.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
    const socket = connectTls(
      {
        host: '127.0.0.1',
        port: r.port,
        servername: r.servername,
        ca: r.ca,
        cert: r.cert,
        key: r.key,
        ALPNProtocols: ['http/1.1'],
      },
      () => {
        socket.write(`GET ${r.path} HTTP/1.1\r\nHost: ${r.servername}\r\n${lines}Connection: close\r\n\r\n`);
      },
    );
    let raw = '';
    let settled = false;
    const finish = (outcome: SendOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ error: `no answer in ${TIMEOUT_MS} ms` }), TIMEOUT_MS);
    const parsed = (): SendOutcome | undefined => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1];
      const head = raw.indexOf('\r\n\r\n');
      return status === undefined || head < 0 ? undefined : { status: Number(status), body: raw.slice(head + 4) };
    };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      raw += d;
      // Done once Content-Length says so: Envoy waits a while for the client to close after a local reply.
      const head = raw.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(raw.slice(0, Math.max(head, 0)))?.[1];
      if (head >= 0 && length !== undefined && raw.length >= head + 4 + Number(length)) finish(parsed()!);
    });
    socket.on('error', (e: Error) => finish({ error: e.message }));
    socket.on('end', () => finish(parsed() ?? { error: `no HTTP response: ${JSON.stringify(raw.slice(0, 200))}` }));
  });
}

/**
 * One HTTP/2 request on its own connection. HTTP/2 names are lower case on the wire (node lower-cases them);
 * a name given several times is sent as several header fields of that name.
 */
export function sendHttp2(r: HeaderRequest): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const headers: OutgoingHttpHeaders = {
      ':method': 'GET',
      ':path': r.path,
      ':authority': r.servername,
      ':scheme': 'https',
    };
    for (const [name, value] of r.headers) {
      const lower = name.toLowerCase();
      const had = headers[lower];
      headers[lower] = had === undefined ? [value] : [...(had as string[]), value];
    }
    const session = connectH2(`https://${r.servername}:${r.port}`, {
      createConnection: () =>
        connectTls({
          host: '127.0.0.1',
          port: r.port,
          servername: r.servername,
          ca: r.ca,
          cert: r.cert,
          key: r.key,
          ALPNProtocols: ['h2'],
        }),
    });
    let settled = false;
    const finish = (outcome: SendOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ error: `no answer in ${TIMEOUT_MS} ms` }), TIMEOUT_MS);
    session.on('error', (e: Error) => finish({ error: e.message }));
    const stream = session.request(headers, { endStream: true });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => finish(status === 0 ? { error: 'stream ended without a response' } : { status, body }));
    stream.on('error', (e: Error) => finish({ error: e.message }));
    stream.on('close', () =>
      finish(status === 0 ? { error: `stream closed (code ${stream.rstCode})` } : { status, body }),
    );
  });
}

export const SENDERS = { 'HTTP/1.1': sendHttp1, 'HTTP/2': sendHttp2 } as const;
export type Protocol = keyof typeof SENDERS;
