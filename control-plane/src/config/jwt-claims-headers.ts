// jwt_claims_headers (JWT_CLAIMS_HEADERS): which claims of the identity assertion go to the upstream, in which headers.
import type { Diagnostics, Location } from '../source/diagnostics.js';
import { scalarString, type MapValue } from '../source/fields.js';
import { describeKind } from '../source/source.js';
import { CERTIFICATE_CLAIMS, EDGE_SET_CLAIMS } from '../identity/index.js';
import { INTERNAL_HEADER_PREFIX } from '../policy/index.js';
import { isHeaderName } from './route.js';

/** What mtls-edge can put in a claim header: what the client certificate says, and the JWT's own claims. */
export const JWT_CLAIMS: readonly string[] = ['email', 'user', 'domain', 'sub', ...CERTIFICATE_CLAIMS, 'iss', 'aud'];

/** A claim name of an ID token: anything printable without spaces (providers use URLs, colons and dots). */
const ID_TOKEN_CLAIM = /^[\x21-\x7e\u00a0-\uffff]+$/;

/** Why a (lower-case) header name cannot carry a claim: undefined when it can, else the end of the message. */
function reservedClaimHeader(lower: string): string | undefined {
  if (lower === 'host' || lower === 'x-pomerium-jwt-assertion') return '';
  if (lower.startsWith(INTERNAL_HEADER_PREFIX)) {
    return (
      `: headers starting with ${INTERNAL_HEADER_PREFIX} are internal to mtls-edge, and removed ` +
      `before the request reaches the upstream`
    );
  }
  if (lower === 'x-forwarded-client-cert')
    return ': Envoy sets (or removes) x-forwarded-client-cert itself; see forward_client_cert';
  return undefined;
}

/** Pomerium's header for a claim: `given_name` → `X-Pomerium-Claim-Given-Name`. */
export function claimHeaderName(claim: string): string {
  const words = claim.split(/[-_]/).filter((w) => w !== '');
  return `X-Pomerium-Claim-${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('-')}`;
}

/**
 * Why `claim` cannot be a claim header, or undefined. Without sign-in only the certificate's claims exist; with it
 * (`signIn`), any claim of the ID token too, as in Pomerium, except the registered claims that only the edge sets
 * in its assertion (iat, exp…: never the provider's, and different in every assertion).
 */
function unknownClaim(claim: string, signIn: boolean): string | undefined {
  if (JWT_CLAIMS.includes(claim)) return undefined;
  if (!signIn)
    return (
      `unknown claim ${JSON.stringify(claim)}: the claims mtls-edge has (from the client ` +
      `certificate) are ${JWT_CLAIMS.join(', ')}`
    );
  if (EDGE_SET_CLAIMS.includes(claim))
    return (
      `${JSON.stringify(claim)} is a claim the edge sets in each assertion itself (${EDGE_SET_CLAIMS.join(', ')}), ` +
      'not one of the ID token: it cannot be a claim header'
    );
  if (!ID_TOKEN_CLAIM.test(claim)) return `${JSON.stringify(claim)} is not a claim name (no spaces or controls)`;
  return undefined;
}

/**
 * `jwt_claims_headers` (JWT_CLAIMS_HEADERS), in Pomerium's three forms: a mapping of header name to claim,
 * a list of claims, or a comma-separated string of claims (each claim then gets its X-Pomerium-Claim-* header).
 * `signIn`: an identity provider is configured, so claims of the ID token may be named too.
 */
export function readJwtClaimsHeaders(root: MapValue, diag: Diagnostics, signIn: boolean): Array<[string, string]> {
  const v = root.entries.get('jwt_claims_headers');
  if (!v) return [];
  const given: Array<{ header?: string; claim: string; at: Location }> = [];
  if (v.kind === 'map') {
    for (const [header, item] of v.entries) {
      const claim = scalarString(item, diag);
      if (claim) given.push({ header, claim: claim.value.trim(), at: item.at });
    }
  } else if (v.kind === 'list') {
    for (const item of v.items) {
      const claim = scalarString(item, diag);
      if (claim) given.push({ claim: claim.value.trim(), at: item.at });
    }
  } else if (v.kind === 'scalar' && typeof v.value === 'string') {
    const claims = v.value.split(',').map((c) => c.trim());
    if (claims.some((c) => c === ''))
      diag.error(v.at, `expected claim names separated by commas, got ${JSON.stringify(v.value)}`);
    for (const claim of claims.filter((c) => c !== '')) given.push({ claim, at: v.at });
  } else {
    diag.error(
      v.at,
      `expected a mapping of header name to claim, a list of claims, or claims separated by commas; got ` +
        `${describeKind(v)}`,
    );
  }
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const g of given) {
    const unknown = unknownClaim(g.claim, signIn);
    if (unknown !== undefined) {
      diag.error(g.at, unknown);
      continue;
    }
    const header = g.header ?? claimHeaderName(g.claim);
    const lower = header.toLowerCase();
    const reserved = reservedClaimHeader(lower);
    if (!isHeaderName(header)) diag.error(g.at, `${JSON.stringify(header)} is not a valid HTTP header name`);
    else if (reserved !== undefined) diag.error(g.at, `cannot use ${header} as a claim header${reserved}`);
    else if (seen.has(lower)) diag.error(g.at, `header ${header} is given twice (header names are case-insensitive)`);
    else {
      seen.add(lower);
      out.push([header, g.claim]);
    }
  }
  return out;
}
