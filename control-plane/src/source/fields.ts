import type { Diagnostics, Location } from './diagnostics.js';
import { describeKind, type SourceValue } from './source.js';

export type MapValue = Extract<SourceValue, { kind: 'map' }>;
export interface Read<T> {
  value: T;
  at: Location;
}

/** Reports keys that are not in `allowed`, suggesting the closest known key. */
export function checkKeys(map: MapValue, allowed: readonly string[], diag: Diagnostics): void {
  for (const [key, v] of map.entries) {
    if (allowed.includes(key)) continue;
    const hint = closest(key, allowed);
    diag.error(v.at, `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
}

export function asMap(v: SourceValue, diag: Diagnostics): MapValue | undefined {
  if (v.kind === 'map') return v;
  diag.error(v.at, `expected a mapping, got ${describeKind(v)}`);
  return undefined;
}

export function readString(map: MapValue, key: string, diag: Diagnostics): Read<string> | undefined {
  const v = map.entries.get(key);
  if (!v) return undefined;
  return scalarString(v, diag);
}

export function scalarString(v: SourceValue, diag: Diagnostics): Read<string> | undefined {
  if (v.kind === 'scalar' && (typeof v.value === 'string' || typeof v.value === 'number') && String(v.value) !== '') {
    return { value: String(v.value), at: v.at };
  }
  diag.error(v.at, `expected a string, got ${describeKind(v)}`);
  return undefined;
}

export function readBool(map: MapValue, key: string, diag: Diagnostics): Read<boolean> | undefined {
  const v = map.entries.get(key);
  if (!v) return undefined;
  if (v.kind === 'scalar' && typeof v.value === 'boolean') return { value: v.value, at: v.at };
  // Environment variables are strings; accept the spellings Go's strconv.ParseBool does, as Pomerium does.
  if (v.kind === 'scalar' && v.fromEnv && typeof v.value === 'string') {
    const s = v.value.toLowerCase();
    if (['1', 't', 'true'].includes(s)) return { value: true, at: v.at };
    if (['0', 'f', 'false'].includes(s)) return { value: false, at: v.at };
  }
  diag.error(v.at, `expected true or false, got ${describeKind(v)}`);
  return undefined;
}

/** A string or a list of strings (Pomerium's `to`). */
export function readStringOrList(map: MapValue, key: string, diag: Diagnostics): Array<Read<string>> | undefined {
  const v = map.entries.get(key);
  if (!v) return undefined;
  if (v.kind === 'list') {
    if (v.items.length === 0) diag.error(v.at, 'expected at least one entry');
    return v.items.map((item) => scalarString(item, diag)).filter((r): r is Read<string> => r !== undefined);
  }
  const one = scalarString(v, diag);
  return one ? [one] : undefined;
}

export function readList(map: MapValue, key: string, diag: Diagnostics): SourceValue[] | undefined {
  const v = map.entries.get(key);
  if (!v) return undefined;
  if (v.kind === 'list') return v.items;
  diag.error(v.at, `expected a list, got ${describeKind(v)}`);
  return undefined;
}

export function readStringMap(map: MapValue, key: string, diag: Diagnostics): Array<[string, string]> | undefined {
  const v = map.entries.get(key);
  if (!v) return undefined;
  const m = asMap(v, diag);
  if (!m) return undefined;
  const out: Array<[string, string]> = [];
  for (const [k, item] of m.entries) {
    if (item.kind === 'scalar' && item.value !== null) out.push([k, String(item.value)]);
    else diag.error(item.at, `expected a string value, got ${describeKind(item)}`);
  }
  return out;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
