// Who may use a route: allow_public_unauthenticated_access, allow_any_authenticated_user and/or a PPL policy,
// checked against whether the route asks for a client certificate at all.
import type { Diagnostics } from '../source/diagnostics.js';
import { readBool, type MapValue } from '../source/fields.js';
import { anyAuthenticatedUserClause, identityCriteria, readPolicy, sessionCriteria } from '../policy/index.js';
import type { PolicyContext } from '../policy/index.js';
import type { CertificateBundle, RouteAccess, RoutePolicy } from './types.js';

const CLIENT_CA_HINT =
  'set client_ca / client_ca_file, or tls_downstream_client_ca / tls_downstream_client_ca_file on this route';

interface Access {
  access: RouteAccess;
  policy?: RoutePolicy;
  passIdentityHeaders: boolean;
  /** The route needs sign-in: its policy reads the ID token. */
  signIn: boolean;
}

/**
 * Who may use the route: `allow_public_unauthenticated_access`, `allow_any_authenticated_user` and/or a PPL `policy`.
 * `clientCa` is the CA the route trusts (its own, else the global one); `caSet`: one is configured, even if it
 * failed to load (that failure has its own error, and "set a CA" would send the user the wrong way).
 */
export function readAccess(
  map: MapValue,
  clientCa: CertificateBundle | undefined,
  caSet: boolean,
  diag: Diagnostics,
  context: PolicyContext = {},
): Access | undefined {
  const access = readAccessOnly(map, clientCa, caSet, diag, context);
  return access && { ...access, signIn: access.policy !== undefined && sessionCriteria(access.policy).length > 0 };
}

function readAccessOnly(
  map: MapValue,
  clientCa: CertificateBundle | undefined,
  caSet: boolean,
  diag: Diagnostics,
  context: PolicyContext,
): Omit<Access, 'signIn'> | undefined {
  const publicAccess = readBool(map, 'allow_public_unauthenticated_access', diag);
  const anyUser = readBool(map, 'allow_any_authenticated_user', diag);
  const policyValue = map.entries.get('policy');
  const read = policyValue && readPolicy(policyValue, diag, context);
  const policy = read ? read.policy : undefined;
  const identity = readBool(map, 'pass_identity_headers', diag);
  // No CA: the handshake asks for no certificate, so nothing that reads one can ever hold.
  const noCa = !clientCa && !caSet;
  const signIn = context.signIn !== undefined;
  let failed = false;
  // With sign-in, the identity headers carry the signed-in user (and the certificate's fingerprint, if any).
  if (identity?.value && noCa && !signIn) {
    diag.error(
      identity.at,
      `pass_identity_headers needs a client CA: the identity headers are made from the client ` +
        `certificate, and this route asks for none; ${CLIENT_CA_HINT}`,
    );
    failed = true;
  }
  if (read && noCa) {
    // Also on a policy with other errors: every problem is reported at once.
    for (const c of identityCriteria(read.partial)) {
      diag.error(
        c.at,
        `${c.kind} reads the client certificate, but this route asks for none (it has no client CA), so ` +
          `it could never match; ${CLIENT_CA_HINT}`,
      );
      failed = true;
    }
  }
  if (publicAccess?.value && anyUser?.value) {
    diag.error(
      anyUser.at,
      'allow_any_authenticated_user and allow_public_unauthenticated_access exclude each other; keep one',
    );
    return undefined;
  }
  if (publicAccess?.value && policyValue) {
    diag.error(
      publicAccess.at,
      'allow_public_unauthenticated_access skips every check, so the policy of this route would be ' +
        'ignored; remove one of them',
    );
    return undefined;
  }
  const passIdentityHeaders = identity?.value ?? false;
  if (anyUser?.value && signIn) {
    // Signed in, as in Pomerium: the route asks for sign-in, whatever its certificate requirement.
    if ((policyValue && !policy) || failed) return undefined;
    const clause = anyAuthenticatedUserClause(anyUser.at, true);
    return {
      access: 'policy',
      policy: { allow: [clause, ...(policy?.allow ?? [])], deny: policy?.deny ?? [] },
      passIdentityHeaders,
    };
  }
  if (anyUser?.value) {
    if (!clientCa) {
      if (!caSet) diag.error(anyUser.at, `allow_any_authenticated_user needs a client CA: ${CLIENT_CA_HINT}`);
      return undefined;
    }
    if (policyValue && !policy) return undefined;
    if (failed) return undefined;
    // The policy alone then says who may use the route: any valid certificate, unless a deny rule refuses it.
    return {
      access: 'any_authenticated_user',
      policy: policy && { allow: [anyAuthenticatedUserClause(anyUser.at, false), ...policy.allow], deny: policy.deny },
      passIdentityHeaders,
    };
  }
  if (publicAccess?.value) return failed ? undefined : { access: 'public', passIdentityHeaders };
  if (policyValue) {
    if (!policy || failed) return undefined;
    if (policy.allow.length === 0) {
      // Access needs an allow clause that matches: deny rules alone refuse everyone.
      diag.error(
        policyValue.at,
        'says nobody may use it: the policy has only deny rules, and a request needs a matching allow ' +
          'rule; add one, or allow_any_authenticated_user: true to admit every valid client certificate ' +
          'the deny rules do not refuse',
      );
      return undefined;
    }
    return { access: 'policy', policy, passIdentityHeaders };
  }
  // A mistyped allow_* already has its error; the route may well grant access once it is fixed.
  const mistyped =
    (!publicAccess && map.entries.has('allow_public_unauthenticated_access')) ||
    (!anyUser && map.entries.has('allow_any_authenticated_user'));
  if (!mistyped) {
    diag.error(
      map.at,
      'says nobody may use it: add allow_any_authenticated_user: true (any valid client certificate) or ' +
        'allow_public_unauthenticated_access: true (anyone who passes the TLS requirement), or a policy ' +
        'saying who may (e.g. policy: {allow: {or: [{email: {is: alice@example.com}}]}})',
    );
  }
  return undefined;
}
