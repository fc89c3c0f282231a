// The identity provider's JWKS (RFC 7517), read into the text that Envoy's jwt_authn filter gets inline
// (local_jwks). Pure: runtime/oidc-discovery.ts fetches it.
import { Diagnostics, type Location, type Result } from '../source/diagnostics.js';
import { parseJsonObject } from './oidc-provider-document.js';

export interface ProviderKeys {
  /** `{"keys":[...]}` with only the keys Envoy can verify signatures with, in one canonical form (see below). */
  jwksJson: string;
  /** What those keys can verify, in SIGNING_ALGORITHMS order. */
  algorithms: string[];
}

/** The JWS algorithms Envoy's jwt_authn verifies (its jwt_verify_lib), RSA first, then EC, then Ed25519. */
const SIGNING_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const RSA_ALGORITHMS: readonly string[] = SIGNING_ALGORITHMS.filter((a) => a.startsWith('RS') || a.startsWith('PS'));
/** An EC key verifies the one algorithm of its curve (RFC 7518 §3.4); Envoy knows no other curves. */
const EC_CURVES: Readonly<Record<string, string>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/**
 * Members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; `d` is also the private
 * part of EC and OKP keys). A JWKS that holds one leaks the provider's signing secret; it is refused, never copied
 * into Envoy config, where every Envoy and every config dump would hold it.
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * The JWKS `text` served at `jwksUri`. Keys Envoy cannot verify ID tokens with (encryption keys, unknown key types
 * and curves, algorithms that do not fit the key) are left out, so that Envoy never refuses the set for one of them;
 * it is an error when none is left. Private and symmetric keys are errors.
 *
 * The text is canonical: members sorted at every level, keys sorted by kid then by their text. The same keys served
 * in another order give the same bytes, so the Envoy resource's version (a hash of its content) does not change.
 */
export function parseJwks(text: string, jwksUri: string, at: Location): Result<ProviderKeys> {
  const diag = new Diagnostics();
  const data = parseJsonObject(text, `jwks_uri ${jwksUri}`, at, diag);
  if (data === undefined) return { ok: false, errors: diag.errors };
  const keys = data['keys'];
  if (!Array.isArray(keys)) {
    diag.error(at, `jwks_uri ${jwksUri} is not a JSON Web Key Set: it has no "keys" list`);
    return { ok: false, errors: diag.errors };
  }
  const usable: Array<Record<string, unknown>> = [];
  const algorithms = new Set<string>();
  const skipped: string[] = [];
  for (const [i, key] of keys.entries()) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      skipped.push(`key ${i + 1} is not a JSON object`);
      continue;
    }
    const jwk = key as Record<string, unknown>;
    const name = typeof jwk['kid'] === 'string' ? `key ${JSON.stringify(jwk['kid'])}` : `key ${i + 1}`;
    const secret = PRIVATE_MEMBERS.filter((m) => m in jwk);
    if (secret.length > 0 || jwk['kty'] === 'oct') {
      diag.error(at, privateKeyMessage(jwksUri, name, jwk['kty'], secret));
      continue;
    }
    const verifies = verifiableAlgorithms(jwk);
    if (typeof verifies === 'string') {
      skipped.push(`${name}: ${verifies}`);
      continue;
    }
    usable.push(jwk);
    for (const a of verifies) algorithms.add(a);
  }
  if (!diag.ok) return { ok: false, errors: diag.errors };
  if (usable.length === 0) {
    const why = keys.length === 0 ? 'it lists no keys' : `ignored ${skipped.join('; ')}`;
    diag.error(
      at,
      `jwks_uri ${jwksUri} has no keys Envoy can verify ID tokens with (${why}); the provider must publish the ` +
        `public key it signs ID tokens with (${SIGNING_ALGORITHMS.join(', ')})`,
    );
    return { ok: false, errors: diag.errors };
  }
  const sorted = usable
    .map((jwk) => ({ kid: typeof jwk['kid'] === 'string' ? jwk['kid'] : '', text: canonicalJson(jwk) }))
    .sort((a, b) => compare(a.kid, b.kid) || compare(a.text, b.text));
  return {
    ok: true,
    value: {
      jwksJson: `{"keys":[${sorted.map((k) => k.text).join(',')}]}`,
      algorithms: SIGNING_ALGORITHMS.filter((a) => algorithms.has(a)),
    },
  };
}

function privateKeyMessage(jwksUri: string, name: string, kty: unknown, members: readonly string[]): string {
  const what =
    kty === 'oct'
      ? 'a symmetric (oct) key, a shared secret'
      : `private key material (${members.map((m) => `"${m}"`).join(', ')})`;
  return (
    `jwks_uri ${jwksUri} publishes ${what} in ${name}: a JWKS must hold public keys only, and mtls-edge never ` +
    `puts secrets into Envoy config. Have the provider publish only public keys and sign ID tokens with an ` +
    `asymmetric algorithm (RS256, ES256, EdDSA), and treat that key as leaked`
  );
}

/** The algorithms `jwk` can verify for Envoy, or why it cannot verify any. */
function verifiableAlgorithms(jwk: Record<string, unknown>): string[] | string {
  const { kty, alg, use, key_ops: keyOps } = jwk;
  if (use !== undefined && use !== 'sig') return `use ${JSON.stringify(use)}, not for signatures`;
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) {
    return 'key_ops without "verify"';
  }
  if (alg !== undefined && typeof alg !== 'string') return 'alg is not a string';
  const fits = (candidates: readonly string[]): string[] | string => {
    if (alg === undefined) return [...candidates];
    return candidates.includes(alg) ? [alg] : `alg ${JSON.stringify(alg)} is not one Envoy verifies with this key`;
  };
  const missing = (members: readonly string[]) => members.filter((m) => !isBase64Url(jwk[m]));
  switch (kty) {
    case 'RSA': {
      const absent = missing(['n', 'e']);
      return absent.length > 0 ? `an RSA key without ${absent.join(' or ')}` : fits(RSA_ALGORITHMS);
    }
    case 'EC': {
      const curve = typeof jwk['crv'] === 'string' ? EC_CURVES[jwk['crv']] : undefined;
      if (curve === undefined) return `EC curve ${JSON.stringify(jwk['crv'])} is not one Envoy knows`;
      const absent = missing(['x', 'y']);
      return absent.length > 0 ? `an EC key without ${absent.join(' or ')}` : fits([curve]);
    }
    case 'OKP': {
      if (jwk['crv'] !== 'Ed25519') return `OKP curve ${JSON.stringify(jwk['crv'])} is not one Envoy verifies with`;
      return missing(['x']).length > 0 ? 'an Ed25519 key without x' : fits(['EdDSA']);
    }
    default:
      return `key type ${JSON.stringify(kty)} is not one Envoy knows`;
  }
}

function isBase64Url(value: unknown): boolean {
  return typeof value === 'string' && BASE64URL.test(value);
}

/** Plain code-unit order, as Array.prototype.sort's default: the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with object members sorted at every level; arrays keep their order (x5c's order means something). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compare(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
