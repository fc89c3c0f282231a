// The reload bench's second figure (issue 14, point 5): from the save of a file that adds a route, for a new host
// and a new upstream (so a new cluster, a new virtual host and a new route), until that route answers through
// Envoy with the upstream's own token, to a client with a certificate, on a new connection. Until the save the
// host must not answer 200 (else the time would measure nothing).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { probe, type BenchChecks } from './checks.js';
import type { Tls } from './load.js';

/** The gap between two attempts: the figure's resolution, and little load on Envoy while it applies the edit. */
const POLL_MS = 5;

export interface NewRoute {
  host: string;
  port: number;
  token: string;
}

/** An upstream of its own for a new route: a new cluster in Envoy. */
export async function startNewRouteUpstream(k: number): Promise<NewRoute & { server: Server }> {
  const token = `new route ${k} ${process.hrtime.bigint()}`;
  const server = createServer((_, res) => res.end(token));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `new${k}.bench.test`, port: (server.address() as AddressInfo).port, token, server };
}

/** The YAML of the added routes, in the bench config's shape. */
export function newRouteLines(routes: readonly NewRoute[]): string[] {
  return routes.flatMap((r) => [
    `  - from: https://${r.host}`,
    `    to: http://127.0.0.1:${r.port}`,
    '    allow_any_authenticated_user: true',
  ]);
}

/**
 * Saves (`save`, which returns the time of the save) and then asks the new host on a new connection every POLL_MS
 * until it answers 200 with the token; returns ms from the save to that answer. First, the same client must get an
 * HTTP answer from `knownHost` (its certificate and TLS work) and no 200 from the new host (nothing serves it yet).
 */
export async function timeNewRoute(
  checks: BenchChecks,
  edgePort: number,
  tls: Tls,
  route: NewRoute,
  knownHost: string,
  save: () => number,
  timeoutMs = 30_000,
): Promise<number | undefined> {
  const known = await probe('HTTP/1.1', edgePort, knownHost, tls);
  if (!checks.expect('status' in known, `${knownHost} gave no HTTP answer before the save: ${JSON.stringify(known)}`))
    return undefined;
  const before = await probe('HTTP/1.1', edgePort, route.host, tls);
  if (!checks.expect(!('status' in before && before.status === 200), `${route.host} answered 200 before the save`))
    return undefined;
  const savedAt = save();
  for (;;) {
    const outcome = await probe('HTTP/1.1', edgePort, route.host, tls);
    const at = Date.now();
    if ('status' in outcome && outcome.status === 200 && outcome.body === route.token) return at - savedAt;
    if (at - savedAt > timeoutMs) {
      checks.fail(`${route.host} did not answer within ${timeoutMs} ms of the save: ${JSON.stringify(outcome)}`);
      return undefined;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
