import { constants } from 'node:crypto';
import { connect as connectTls } from 'node:tls';
import type { ClientCert } from './pki-fixture.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** The ways a client resumes: TLS 1.3 tickets, TLS 1.2 tickets, TLS 1.2 session ids. */
export const SESSION_KINDS = [
  { name: 'TLS 1.3 ticket', version: 'TLSv1.3', sessionIds: false },
  { name: 'TLS 1.2 ticket', version: 'TLSv1.2', sessionIds: false },
  { name: 'TLS 1.2 session id', version: 'TLSv1.2', sessionIds: true },
] as const satisfies ReadonlyArray<{ name: string; version: TlsVersion; sessionIds: boolean }>;

export interface SessionRequest {
  port: number;
  servername: string;
  ca: string;
  client?: ClientCert;
  version: TlsVersion;
  /** TLS 1.2 only: resume by session id, with tickets turned off (else the server sends a ticket). */
  sessionIds?: boolean;
  /** A session a previous connection got, offered for resumption. */
  offered?: Buffer;
  path?: string;
  /** More request headers (a session's cookies). */
  headers?: Record<string, string>;
}

export interface SessionOutcome {
  /** Whether the handshake resumed the offered session. */
  reused: boolean;
  /** The response's status, or the error that ended the connection before one (a refused handshake). */
  status: number | string;
  /** The session to offer next time (TLS 1.2's with the handshake, TLS 1.3's tickets after it). */
  session: Buffer | undefined;
}

/** One TLS connection over HTTP/1.1, one GET on it, then close: what the connection is worth, and its session. */
export async function requestOverSession(o: SessionRequest): Promise<SessionOutcome> {
  const socket = connectTls({
    host: '127.0.0.1',
    port: o.port,
    servername: o.servername,
    ca: o.ca,
    ...o.client,
    minVersion: o.version,
    maxVersion: o.version,
    ALPNProtocols: ['http/1.1'],
    ...(o.sessionIds ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
    ...(o.offered ? { session: o.offered } : {}),
  });
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => (session = s));
  let raw = '';
  let error: string | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (raw += d));
  socket.on('error', (e: Error) => (error ??= e.message));
  socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  const connected = await new Promise<boolean>((resolve) => {
    socket.once('secureConnect', () => resolve(true));
    socket.once('close', () => resolve(false));
  });
  const reused = connected && socket.isSessionReused();
  if (connected) {
    const more = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`GET ${o.path ?? '/'} HTTP/1.1\r\nHost: ${o.servername}\r\nConnection: close\r\n${more.join('')}\r\n`);
    await new Promise((resolve) => socket.once('close', resolve));
  }
  session ??= (connected ? socket.getSession() : undefined) ?? undefined;
  const status = /^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1];
  return { reused, status: status ? Number(status) : (error ?? 'closed without an answer'), session };
}
