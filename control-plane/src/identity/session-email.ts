/**
 * A signed-in user's email, as the ID token gives it, when the provider says it is the user's: `email_verified` is
 * true (or "true", as a few providers send it), or absent (some providers never send it). Many providers let anyone
 * sign up with any address, so any other value makes the email no identity: the `email` and `domain` criteria read
 * none (policy/session-claims.ts, whose RBAC rule reads it alike), and the assertion carries none.
 */
export function verifiedEmail(claims: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (claims === undefined || !Object.hasOwn(claims, 'email')) return undefined;
  const email = claims['email'];
  const verified = Object.hasOwn(claims, 'email_verified') ? claims['email_verified'] : true;
  return typeof email === 'string' && (verified === true || verified === 'true') ? email : undefined;
}
