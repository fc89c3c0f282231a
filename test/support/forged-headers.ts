import assert from 'node:assert/strict';
import { claimHeaderName, JWT_CLAIMS } from '../../control-plane/src/config/resolve.js';
import {
  CLIENT_CERTIFICATE_STATE_HEADER,
  INTERNAL_HEADER_PREFIX,
  PEER_HEADERS,
} from '../../control-plane/src/policy/internal-headers.js';
import type { SeenRequest } from './upstream.js';

/** Every forged value carries it: finding it anywhere the upstream looks means a client's header got through. */
export const FORGED_MARKER = 'forged-by-client';

/**
 * Names a client must not be able to set (canonical case; compared case-insensitively):
 * - every X-Pomerium-Claim-* the edge can make (one per claim it knows, configured or not), and one for a
 *   claim it does not know, as Pomerium upstreams read any of them;
 * - `claimHeaders`: the names the config's jwt_claims_headers uses, Pomerium's or its own (X-User-Email);
 * - the signed assertion, x-forwarded-client-cert, and the edge's internal x-mtls-edge-* headers, with one
 *   internal name the edge never sets (only the prefix strip can stop it);
 * - `setHeaders`: names the route's set_request_headers gives, which must carry the edge's value only.
 */
export function forgeableHeaderNames(claimHeaders: string[], setHeaders: string[] = []): string[] {
  const names = [
    ...JWT_CLAIMS.map(claimHeaderName),
    'X-Pomerium-Claim-Groups',
    ...claimHeaders,
    'X-Pomerium-Jwt-Assertion',
    'X-Forwarded-Client-Cert',
    CLIENT_CERTIFICATE_STATE_HEADER,
    ...Object.values(PEER_HEADERS),
    `${INTERNAL_HEADER_PREFIX}peer-spki-hash`,
    ...setHeaders,
  ];
  const seen = new Set<string>();
  return names.filter((n) => !seen.has(n.toLowerCase()) && seen.add(n.toLowerCase()));
}

/** `x-pomerium-claim-email` → `X-POMERIUM-claim-EMAIL`… : words alternately upper and lower case. */
function alternatingCase(name: string): string {
  return name
    .split('-')
    .map((w, i) => (i % 2 === 0 ? w.toUpperCase() : w.toLowerCase()))
    .join('-');
}

/** `x-pomerium-claim-email` → `X-Pomerium-Claim-Email`, the case an upstream's framework usually prints. */
function titleCase(name: string): string {
  return name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
    .join('-');
}

/**
 * Each name twice, as two header fields that differ only in the case of the name (neither all lower case,
 * as the edge sets them), each with its own forged value: duplicates, and names the edge's differ from only by case.
 * Values look like mail addresses so that a forged x-mtls-edge-peer-email would satisfy an email policy.
 */
export function forgedHeaders(names: string[]): Array<[string, string]> {
  return names.flatMap((name, i): Array<[string, string]> => [
    [titleCase(name), `${FORGED_MARKER}-${i}-a@example.com`],
    [alternatingCase(name), `${FORGED_MARKER}-${i}-b@example.com`],
  ]);
}

/** The values of every field named `name` (any case) that reached the upstream, in order. */
export function receivedValues(seen: SeenRequest, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < seen.rawHeaders.length; i += 2)
    if (seen.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(seen.rawHeaders[i + 1]!);
  return out;
}

/**
 * Nothing a client forged reached the upstream: no field's name or value holds the marker, no internal
 * header is there at all, and every forgeable name carries exactly the values the edge sets (`edgeSets`,
 * lower-case name → values; a name absent from it must not arrive). `checkedApart` names are left to the caller
 * (values the test cannot know in advance, such as the signed assertion), beyond the marker scan.
 */
export function assertOnlyEdgeValues(
  seen: SeenRequest,
  names: string[],
  edgeSets: Record<string, string[]>,
  checkedApart: string[] = [],
): void {
  const where = `${seen.method} ${seen.url}`;
  for (let i = 0; i + 1 < seen.rawHeaders.length; i += 2) {
    const [name, value] = [seen.rawHeaders[i]!, seen.rawHeaders[i + 1]!];
    assert.ok(
      !`${name}: ${value}`.toLowerCase().includes(FORGED_MARKER),
      `${where}: a forged header reached the upstream: ${name}: ${value}`,
    );
    assert.ok(
      !name.toLowerCase().startsWith(INTERNAL_HEADER_PREFIX),
      `${where}: internal header ${name}: ${value} reached the upstream`,
    );
  }
  for (const name of names) {
    const lower = name.toLowerCase();
    if (checkedApart.includes(lower)) continue;
    assert.deepEqual(receivedValues(seen, lower), edgeSets[lower] ?? [], `${where}: ${lower} as the upstream got it`);
  }
}
