const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest duration protobuf (and so Envoy) accepts: 315,576,000,000 s, ten thousand years. */
export const MAX_DURATION_MS = 315_576_000_000_000;

/** Parses a Go duration ("30s", "1m30s", "250ms", "0"), the format Pomerium uses for timeouts. */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || consumed === 0 || !Number.isFinite(total)) return undefined;
  // 0 means "no timeout", so a tiny positive duration must not round down to it.
  return total > 0 ? Math.max(1, Math.round(total)) : 0;
}
