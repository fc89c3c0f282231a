import { createSecureServer, type Http2Session } from 'node:http2';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** A stand-in control-plane replica that dies in the middle of its first ext_authz answer. */
export interface HalfAnswerReplica {
  port: number;
  /** Checks it cut off: 0 until its first Check, then 1 (it is gone after that). */
  readonly cut: number;
  close(): Promise<void>;
}

/**
 * What a replica killed at the worst moment looks like to Envoy: it speaks the control channel's mutual TLS with the
 * control plane's own certificate, refuses ADS (UNAVAILABLE, so Envoy streams from a real replica), and answers its
 * first Check with response headers and a message, then closes every connection and its port before the trailers,
 * as the kernel does for a SIGKILLed process. Envoy has received an answer it cannot complete and cannot retry.
 */
export async function startHalfAnswerReplica(files: {
  certFile: string;
  keyFile: string;
  caFile: string;
}): Promise<HalfAnswerReplica> {
  const sessions = new Set<Http2Session>();
  let cut = 0;
  const server = createSecureServer({
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    ca: readFileSync(files.caFile),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const die = () => {
    server.close();
    for (const session of sessions) session.destroy();
  };
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== CHECK_PATH || cut > 0) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true });
      return;
    }
    cut++;
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      // One gRPC message (an empty CheckResponse), flushed; then gone before the trailers.
      stream.write(Buffer.alloc(5), die);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get cut() {
      return cut;
    },
    close: () => {
      if (server.listening) die();
      return Promise.resolve();
    },
  };
}
