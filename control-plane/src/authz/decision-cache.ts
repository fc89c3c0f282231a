import { createHash } from 'node:crypto';
import { usesRequest, type Decision } from '../policy/index.js';
import type { AuthorizationRoute, AuthorizationTable } from './types.js';

export interface CacheStats {
  hits: number;
  misses: number;
  size: number;
}

/** A Map kept in use order: a hit moves the entry to the end; the oldest entry goes when the cache is full. */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new Error(`cache size must be a positive integer, got ${maxEntries}`);
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export const DEFAULT_DECISION_CACHE_SIZE = 50_000;

/**
 * What names one session in the caches' keys: the SHA-256 of its payload as canonical JSON (keys sorted at every
 * level), so that two sessions share entries only when every claim is the same, whatever order Envoy sent them in.
 */
export function sessionDigest(payload: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

interface Entry {
  /** The route object the decision was made for: a rebuilt table brings new objects, so old entries cannot match. */
  route: AuthorizationRoute;
  decision: Decision;
}

/** Whether a policy looks at method or path, computed once per policy object. */
const requestDependent = new WeakMap<object, boolean>();

/** Whether the route's decision can differ between two requests of the same certificate (its method or path). */
export function policyUsesRequest(route: AuthorizationRoute): boolean {
  let uses = requestDependent.get(route.policy);
  if (uses === undefined) {
    uses = usesRequest(route.policy);
    requestDependent.set(route.policy, uses);
  }
  return uses;
}

/**
 * Decisions by route + client certificate (+ the session on a signed-in route, + method and path for policies that
 * look at them). The decision depends on nothing else: the identity comes from the certificate,
 * invalid_client_certificate from the route, and the sign-in criteria from the session, which the service reads
 * only on signed-in routes (so that a route's key and what its decision reads always agree).
 */
export class DecisionCache {
  private readonly lru: LruCache<Entry>;
  private table: AuthorizationTable | undefined;
  private hits = 0;
  private misses = 0;

  constructor(maxEntries: number = DEFAULT_DECISION_CACHE_SIZE) {
    this.lru = new LruCache(maxEntries);
  }

  /** Forgets every decision when `table` is not the table they were made with (a config reload). Returns true then. */
  useTable(table: AuthorizationTable): boolean {
    if (this.table === table) return false;
    const changed = this.table !== undefined;
    this.table = table;
    this.lru.clear();
    return changed;
  }

  /**
   * `fingerprint` undefined: the request has no (valid) client certificate; `session`: the digest of its session
   * (sessionDigest), on a signed-in route, undefined when it has none.
   */
  static key(
    route: AuthorizationRoute,
    fingerprint: string | undefined,
    method: string,
    path: string,
    session?: string,
  ): string {
    let base = `${route.name}\0${fingerprint ?? '-'}`;
    if (route.signIn) base += `\0${session ?? '-'}`;
    return policyUsesRequest(route) ? `${base}\0${method}\0${path}` : base;
  }

  get(key: string, route: AuthorizationRoute): Decision | undefined {
    const entry = this.lru.get(key);
    if (entry && entry.route === route) {
      this.hits++;
      return entry.decision;
    }
    this.misses++;
    return undefined;
  }

  set(key: string, route: AuthorizationRoute, decision: Decision): void {
    this.lru.set(key, { route, decision });
  }

  clear(): void {
    this.lru.clear();
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.lru.size };
  }
}
