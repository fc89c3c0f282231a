import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** A fresh RS256 signing key as a private JWK, with a kid of its own (RS256: what a relying party accepts first). */
export async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

/** A private key the IdP never had (its kid is unknown there): tokens signed with it must be refused. */
export const foreignKey = (): Promise<JWK> => newSigningKey();

/**
 * An ID token signed with `key` (the IdP's, from `signingKeys()`, or a foreign one), for the negative tests: a
 * wrong audience or issuer, an expired token (a negative `expiresInSeconds`), a missing claim. `claims` is the
 * whole payload except `iat` and `exp`, which this sets; a claim in `claims` wins.
 */
export async function mintIdToken(
  key: JWK,
  claims: Record<string, unknown>,
  opts: { expiresInSeconds?: number } = {},
): Promise<string> {
  const alg = key.alg ?? 'RS256';
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (opts.expiresInSeconds ?? 3600);
  // An expired token is also issued in the past, as a real one would have been.
  const iat = Math.min(now, exp - 60);
  return new SignJWT({ iat, exp, ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) })
    .sign(await importJWK(key, alg));
}
