import { Agent, request } from 'node:https';

/**
 * Requests over one kept-alive TLS connection to 127.0.0.1 (the handshake is the costly part), with a client
 * certificate or none; resolves with the status of each.
 */
export interface KeepAliveClient {
  send: (method: string, path: string) => Promise<number>;
  close: () => void;
}

export function keepAliveClient(o: {
  port: number;
  servername: string;
  ca: string;
  cert?: string;
  key?: string;
}): KeepAliveClient {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: o.ca,
    ...(o.cert ? { cert: o.cert, key: o.key } : {}),
    servername: o.servername,
  });
  const send = (method: string, path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: o.port, method, path, agent, headers: { host: o.servername }, timeout: 10_000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });
  return { send, close: () => agent.destroy() };
}
