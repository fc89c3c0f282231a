// Stopping an Envoy without losing a request: tell the balancers first, then let the open connections finish.
import type { SocketAddress } from '../config/index.js';

export interface DrainOptions {
  /** Envoy's admin API. */
  admin: SocketAddress;
  /** How long /healthz answers 503 while Envoy still serves in full, so balancers and probes take it out. */
  announceMs: number;
  /** At most this long for open connections to finish once the listeners drain (Envoy's --drain-time-s). */
  drainMs: number;
  /** Progress, for the log. */
  onStep?: (step: 'health-failed' | 'draining' | 'drained', detail: Record<string, unknown>) => void;
  /** How often open connections are counted. */
  pollMs?: number;
}

export type DrainOutcome = { ok: true; openConnections: number } | { ok: false; error: string };

/**
 * 1. POST /healthcheck/fail: the health listener answers 503, and Envoy starts to discourage keep-alive (it closes
 *    HTTP/1.1 connections after their response and sends HTTP/2 GOAWAY) while still accepting new connections.
 * 2. After `announceMs`, POST /drain_listeners?graceful: Envoy keeps discouraging for its drain time, then closes
 *    the listeners. We wait until no downstream connection is open, or `drainMs` has passed.
 * Whoever called this then stops Envoy (SIGTERM); what is still open then is cut.
 */
export async function drainEnvoy(o: DrainOptions): Promise<DrainOutcome> {
  const base = adminUrl(o.admin);
  const post = async (path: string) => {
    const res = await fetch(base + path, { method: 'POST', signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).trim()}`);
  };
  try {
    await post('/healthcheck/fail');
    o.onStep?.('health-failed', { announceMs: o.announceMs });
    await sleep(o.announceMs);
    await post('/drain_listeners?graceful&skip_exit');
    o.onStep?.('draining', { drainMs: o.drainMs });
    const deadline = Date.now() + o.drainMs;
    let open = await openConnections(base);
    while (open > 0 && Date.now() < deadline) {
      await sleep(Math.min(o.pollMs ?? 100, Math.max(0, deadline - Date.now())));
      open = await openConnections(base);
    }
    o.onStep?.('drained', { openConnections: open });
    return { ok: true, openConnections: open };
  } catch (e) {
    return { ok: false, error: `Envoy's admin API at ${base}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Downstream connections open on the listeners that serve traffic (`listener.<address>.downstream_cx_active`),
 * leaving out the admin API's own and the health and metrics listeners (a probe or a scrape is not a user).
 */
async function openConnections(base: string): Promise<number> {
  const res = await fetch(`${base}/stats?filter=${encodeURIComponent('^listener\\..*\\.downstream_cx_active$')}`, {
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  // An error page is not "no connection open": the drain would end early.
  if (!res.ok) throw new Error(`/stats: ${res.status} ${text.trim()}`);
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^listener\.(.+)\.downstream_cx_active: (\d+)$/.exec(line.trim());
    // Per-thread copies (.worker_0,, admin's .main_thread.) repeat the listener's own count.
    const listener = m?.[1] ?? 'admin';
    if (/\.(worker_\d+|main_thread)$/.test(listener) || listener === 'admin') continue;
    if (!listener.startsWith('mtls_edge_')) total += Number(m?.[2]);
  }
  return total;
}

function adminUrl(a: SocketAddress): string {
  const host = a.host === '0.0.0.0' ? '127.0.0.1' : a.host === '::' ? '::1' : a.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
