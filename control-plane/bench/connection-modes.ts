// How a bench's client connects, shared by the benches that compare two sides with the same traffic: keep-alive
// (HTTP/1.1: 8 connections, 8 requests in flight; HTTP/2: one connection, 16 streams in flight), a new full TLS
// handshake per request (4 in flight), or a new connection per request that resumes the last one's TLS session
// (4 in flight). Every answer must be a 200 with the upstream's body; a "new handshake" that resumed, or a
// "resumed" one that did not, is an error too: it would measure something other than what the mode says.
import { Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { drive as driveFor, h1Get, h2Get, h2Session, type LoadResult, type Tls } from './load.js';

export const MODES = [
  'h1 keep-alive',
  'h2 keep-alive',
  'h1 new handshake',
  'h2 new handshake',
  'h1 resumed',
  'h2 resumed',
] as const;
export type Mode = (typeof MODES)[number];

/** A "new handshake" that resumed a TLS session would measure less than it says. */
function fullHandshake(reused: boolean | undefined): void {
  if (reused !== false)
    throw new Error(`the TLS session was ${reused ? 'resumed' : 'not inspectable'}: not a full handshake`);
}

/** One `seconds`-long measurement of `mode` against `host` on `port`. */
export async function measure(
  mode: Mode,
  port: number,
  host: string,
  tls: Tls,
  body: string,
  seconds: number,
): Promise<LoadResult> {
  const drive = (concurrency: number, worker: () => Promise<unknown>) => driveFor(seconds, concurrency, worker);
  if (mode === 'h1 keep-alive') {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const r = await drive(8, () => h1Get(port, host, tls, agent, '/', body));
    agent.destroy();
    return r;
  }
  if (mode === 'h1 new handshake')
    return drive(4, async () => fullHandshake((await h1Get(port, host, tls, false, '/', body)).sessionReused));
  if (mode === 'h1 resumed') return resuming(drive, (session) => h1Resumed(port, host, { ...tls, session }, body));
  if (mode === 'h2 resumed') return resuming(drive, (session) => h2Resumed(port, host, { ...tls, session }, body));
  if (mode === 'h2 keep-alive') {
    const session = await h2Session(port, host, tls);
    const r = await drive(16, () => h2Get(session, host, '/', body));
    session.close();
    return r;
  }
  return drive(4, async () => {
    const session = await h2Session(port, host, tls);
    try {
      fullHandshake((session.socket as TLSSocket).isSessionReused());
      await h2Get(session, host, '/', body);
    } finally {
      session.close();
    }
  });
}

/**
 * A new connection per request (4 in flight), each offering the session the last one got: after the workers' first
 * connections, every one must resume (a full handshake would measure more than the mode says).
 */
function resuming(
  drive: (concurrency: number, worker: () => Promise<unknown>) => Promise<LoadResult>,
  connect: (session: Buffer | undefined) => Promise<{ reused: boolean; session?: Buffer }>,
) {
  let session: Buffer | undefined;
  return drive(4, async () => {
    const offered = session;
    const r = await connect(offered);
    if (offered !== undefined && !r.reused) throw new Error('the TLS session was not resumed: a full handshake');
    session = r.session ?? session;
  });
}

async function h1Resumed(port: number, host: string, tls: Tls, body: string) {
  const answer = await h1Get(port, host, tls, false, '/', body);
  return { reused: answer.sessionReused === true, session: answer.session };
}

async function h2Resumed(port: number, host: string, tls: Tls, body: string) {
  const session = await h2Session(port, host, tls);
  try {
    const socket = session.socket as TLSSocket;
    const reused = socket.isSessionReused();
    await h2Get(session, host, '/', body);
    return { reused, session: socket.getSession() };
  } finally {
    session.close();
  }
}

/**
 * Both sides warmed up, then measured in the order b, a, a, b, so that neither profits from going second (JIT,
 * caches) or suffers alone from a burst of other work on the machine; each side's two runs are combined by the caller.
 */
export async function sideBySide<T>(
  a: () => Promise<T>,
  b: () => Promise<T>,
): Promise<{ warmUp: T[]; a: T[]; b: T[] }> {
  const warmUp = [await a(), await b()];
  const b1 = await b();
  const a1 = await a();
  const a2 = await a();
  const b2 = await b();
  return { warmUp, a: [a1, a2], b: [b1, b2] };
}
