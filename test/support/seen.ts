import { randomBytes } from 'node:crypto';
import type { SeenRequest, TestUpstream } from './upstream.js';

/**
 * What reached an upstream during one test only. The upstream's log is shared by every test of a file, so a
 * count over it depends on which tests ran before; a mark taken at the start of the test does not.
 */
export interface SeenSince {
  /** Requests that reached the upstream after the mark, oldest first. */
  requests(): SeenRequest[];
  /** How many of them match (all of them without a predicate). */
  count(match?: (r: SeenRequest) => boolean): number;
}

export function seenSince(upstream: TestUpstream): SeenSince {
  const start = upstream.seen.length;
  const requests = () => upstream.seen.slice(start);
  return { requests, count: (match = () => true) => requests().filter(match).length };
}

/** A path no other request of this process uses, so that the upstream's log can be searched for it alone. */
export function uniquePath(prefix: string): string {
  return `${prefix.replace(/\/$/, '')}/${randomBytes(6).toString('hex')}`;
}

/** The one request that reached the upstream for `path` (a path from `uniquePath`); throws if none or several did. */
export function onlyRequestFor(upstream: TestUpstream, path: string): SeenRequest {
  const found = upstream.seen.filter((r) => r.url === path);
  if (found.length !== 1)
    throw new Error(`expected exactly one request for ${path} at upstream ${upstream.name}, saw ${found.length}`);
  return found[0]!;
}

/** How many requests for `path` (or below it) reached the upstream. */
export function countFor(upstream: TestUpstream, path: string): number {
  return upstream.seen.filter((r) => r.url === path || r.url.startsWith(`${path}/`)).length;
}
