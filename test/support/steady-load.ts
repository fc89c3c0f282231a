import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { Agent, request } from 'node:https';

// Requests sent back to back through the edge while something happens to it (a replica killed, an edit), on
// HTTP/1.1 keep-alive or one HTTP/2 connection; every answer that is not the expected one is a failure, with why.
// A connection or request that gets no answer in time is a failure too, never a wait: a listener that stopped
// accepting (a drain the balancer was not told about) would otherwise hold the test, and its process, forever.
const ANSWER_TIMEOUT_MS = 10_000;

export interface LoadTarget {
  port: number;
  host: string;
  path: string;
  ca: string;
  cert: string;
  key: string;
  /** Whether a 200's body (and headers) are what this route serves. */
  expect: (status: number, body: string) => boolean;
}

export interface Tally {
  ok: number;
  failed: string[];
}

export interface RunningLoad {
  tally: Tally;
  stop(): Promise<Tally>;
}

export function steadyLoad(target: LoadTarget, protocol: 'h1' | 'h2'): RunningLoad {
  const tally: Tally = { ok: 0, failed: [] };
  let stopped = false;
  // A load that throws (a client library refusing a call) is a failure in its tally, never a rejection no one waits
  // for: that would end the test as an unhandled rejection and leave this load running.
  const done = (protocol === 'h1' ? http1 : http2)(target, tally, () => stopped).catch((e: unknown) => {
    tally.failed.push(`${protocol} load stopped: ${e instanceof Error ? e.message : String(e)}`);
  });
  return {
    tally,
    stop: async () => {
      stopped = true;
      await done;
      return tally;
    },
  };
}

function record(tally: Tally, target: LoadTarget, label: string, status: number, body: string): void {
  if (target.expect(status, body)) tally.ok++;
  else tally.failed.push(`${label} ${target.host}: ${status} ${body.slice(0, 120)}`);
}

/**
 * One keep-alive connection at a time. A request that finds its reused socket closed by the server (ECONNRESET on a
 * kept-alive connection) is sent again on a new one, as browsers do; any other error is a failure.
 */
async function http1(target: LoadTarget, tally: Tally, stopped: () => boolean): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const once = (retry: boolean) =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: target.port,
          servername: target.host,
          headers: { host: target.host },
          ca: target.ca,
          cert: target.cert,
          key: target.key,
          agent,
          path: target.path,
          timeout: ANSWER_TIMEOUT_MS,
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            record(tally, target, 'h1', res.statusCode ?? 0, body);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (retry && req.reusedSocket && e.code === 'ECONNRESET') return void once(false).then(resolve);
        tally.failed.push(`h1 ${target.host}: ${e.message}`);
        resolve();
      });
      req.end();
    });
  while (!stopped()) await once(true);
  agent.destroy();
}

/** One HTTP/2 connection; after a GOAWAY, requests it did not process go again on a new one (RFC 9113 §6.8). */
async function http2(target: LoadTarget, tally: Tally, stopped: () => boolean): Promise<void> {
  let goaway = false;
  const connect = async (): Promise<ClientHttp2Session> => {
    goaway = false;
    const s = connectH2(`https://127.0.0.1:${target.port}`, {
      servername: target.host,
      ca: target.ca,
      cert: target.cert,
      key: target.key,
    });
    s.on('error', (e: Error) => tally.failed.push(`h2 session: ${e.message}`));
    s.on('goaway', () => (goaway = true));
    // A connection that fails (its error is a failure, above) is tried again after a pause, not awaited forever.
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(
        () => s.destroy(new Error(`no connection within ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
      s.once('connect', () => (clearTimeout(timer), resolve(true)));
      s.once('close', () => (clearTimeout(timer), resolve(false)));
    });
    if (!connected) await new Promise((r) => setTimeout(r, 50));
    return s;
  };
  let session = await connect();
  const once = () =>
    new Promise<boolean>((resolve) => {
      // A session can close between the check below and this request (the balancer cut it): then request() throws.
      if (session.destroyed || session.closed) return resolve(false);
      const stream = session.request({ ':path': target.path, ':authority': target.host });
      let body = '';
      let status = 0;
      stream.setTimeout(ANSWER_TIMEOUT_MS, () => stream.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (d: Buffer) => (body += d.toString()));
      const unprocessed = () => status === 0 && (goaway || session.destroyed);
      stream.on('end', () => {
        if (unprocessed()) return resolve(false);
        record(tally, target, 'h2', status, body);
        resolve(true);
      });
      stream.on('error', (e: Error) => {
        if (unprocessed()) return resolve(false);
        tally.failed.push(`h2 ${target.host}: ${e.message}`);
        resolve(true);
      });
      stream.end();
    });
  while (!stopped()) {
    if (goaway || session.destroyed) {
      session.close();
      session = await connect();
    }
    if (!(await once())) {
      session.close();
      session = await connect();
    }
  }
  session.close();
}
