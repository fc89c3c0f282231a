import { verifiedEmail } from '../identity/session-email.js';
import { hostNameRegex } from './host-name-regex.js';
import { matchesAll } from './matching.js';
import type { RbacPrincipal } from './rbac-rules.js';
import { and, not, or } from './rbac-rules.js';
import type { ClaimValue, StringMatcher } from './types.js';
import type { envoy_type_matcher_v3 } from '../envoy-api/index.js';

/**
 * Where a signed-in user's claims are while Envoy decides a request: Envoy's jwt_authn filter validates the ID
 * token (issuer, audience, expiry, signature) and writes its payload into the request's dynamic metadata, in its
 * own namespace under this key. The RBAC principals below read it there; the translator sets it
 * (translate/http-filters/session-token.ts), and the ext_authz service receives it (authz/service.ts).
 */
export const SESSION_METADATA_NAMESPACE = 'envoy.filters.http.jwt_authn';
export const SESSION_PAYLOAD_KEY = 'mtls_edge_session';

type ValueMatcher = envoy_type_matcher_v3.ValueMatcher;

/** The claim `claim` of the validated ID token meets `value`. */
function claimPrincipal(claim: string, value: ValueMatcher): RbacPrincipal {
  return {
    metadata: { filter: SESSION_METADATA_NAMESPACE, path: [{ key: SESSION_PAYLOAD_KEY }, { key: claim }], value },
  };
}

/** A validated ID token is there: the request is signed in. */
export const SIGNED_IN: RbacPrincipal = {
  metadata: {
    filter: SESSION_METADATA_NAMESPACE,
    path: [{ key: SESSION_PAYLOAD_KEY }],
    value: { present_match: true },
  },
};

/**
 * The provider does not say the email is the user's: `email_verified` is there and is not true (nor "true", as a
 * few providers send it). Many let anyone sign up with any address, so such an email is no identity: the `email` and
 * `domain` criteria read it as no email at all. A token without the claim is taken as verified (several providers
 * never send it).
 */
const EMAIL_UNVERIFIED: RbacPrincipal = and([
  claimPrincipal('email_verified', { present_match: true }),
  not(
    claimPrincipal('email_verified', {
      or_match: { value_matchers: [{ bool_match: true }, { string_match: { exact: 'true' } }] },
    }),
  ),
]);

/** `principal` over the email claim, with an unverified email read as none (then only `not` matchers hold). */
function verifiedEmailOnly(match: StringMatcher[], principal: RbacPrincipal): RbacPrincipal {
  return match.every((m) => m.op === 'not')
    ? or([EMAIL_UNVERIFIED, principal])
    : and([not(EMAIL_UNVERIFIED), principal]);
}

/** `email`: the email claim, if the provider verified it (identity/session-email.ts). */
export function emailClaimPrincipal(match: StringMatcher[]): RbacPrincipal {
  return verifiedEmailOnly(match, stringClaimPrincipal('email', match));
}

/** Each matcher over a string claim (all must hold; `not` also holds when the claim is missing). */
export function stringClaimPrincipal(claim: string, match: StringMatcher[]): RbacPrincipal {
  return and(
    match.map((m) => {
      switch (m.op) {
        case 'is':
          return claimPrincipal(claim, { string_match: { exact: m.value } });
        case 'not':
          return not(claimPrincipal(claim, { string_match: { exact: m.value } }));
        case 'starts_with':
          return claimPrincipal(claim, { string_match: { prefix: m.value } });
        case 'ends_with':
          return claimPrincipal(claim, { string_match: { suffix: m.value } });
        case 'contains':
          return claimPrincipal(claim, { string_match: { contains: m.value } });
        case 'in':
          return or(m.values.map((v) => claimPrincipal(claim, { string_match: { exact: v } })));
      }
    }),
  );
}

/** `domain`: the part of the `email` claim after its @, compared as a host name (in lower case). */
export function emailDomainPrincipal(match: StringMatcher[]): RbacPrincipal {
  return verifiedEmailOnly(
    match,
    and(
      match.map((m) => {
        // Whatever precedes the last @ (as the service's emailDomain reads it): a provider's email need not be ASCII.
        const regex = (x: StringMatcher) => `[\\s\\S]*@${hostNameRegex(x)}`;
        if (m.op === 'not')
          return not(
            claimPrincipal('email', { string_match: { safe_regex: { regex: regex({ op: 'is', value: m.value }) } } }),
          );
        return claimPrincipal('email', { string_match: { safe_regex: { regex: regex(m) } } });
      }),
    ),
  );
}

/** One value of `claim/NAME`: the claim is it, or is a list holding it. */
function claimValueMatcher(value: ClaimValue): ValueMatcher {
  if (typeof value === 'boolean') return { bool_match: value };
  if (typeof value === 'number')
    return {
      or_match: {
        value_matchers: [
          { double_match: { exact: value } },
          { list_match: { one_of: { double_match: { exact: value } } } },
        ],
      },
    };
  return {
    or_match: {
      value_matchers: [
        { string_match: { exact: value } },
        { list_match: { one_of: { string_match: { exact: value } } } },
      ],
    },
  };
}

/** `claim/NAME`: any of the values given. */
export function anyClaimValuePrincipal(claim: string, values: ClaimValue[]): RbacPrincipal {
  return or(values.map((v) => claimPrincipal(claim, claimValueMatcher(v))));
}

/** `groups: {has: G}`: the groups claim is a list holding G (or, as some providers send one group, is G). */
export function groupPrincipal(groupsClaim: string, group: string): RbacPrincipal {
  return anyClaimValuePrincipal(groupsClaim, [group]);
}

/** The ext_authz service's reading of the same rules, over the claims Envoy sent it. */
export function claimHolds(
  claims: Readonly<Record<string, unknown>> | undefined,
  claim: string,
  values: ClaimValue[],
): boolean {
  const actual = claims?.[claim];
  const list = Array.isArray(actual) ? actual : [actual];
  return values.some((v) => list.some((a) => a === v));
}

export function stringClaimHolds(
  claims: Readonly<Record<string, unknown>> | undefined,
  claim: string,
  match: StringMatcher[],
): boolean {
  const actual = claims?.[claim];
  // `not` holds for a missing claim, as the RBAC rule does.
  if (typeof actual !== 'string') return match.every((m) => m.op === 'not');
  return matchesAll(actual, match);
}

/** The domain of a verified email claim, compared in lower case (host names are). */
export function emailDomain(claims: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const email = verifiedEmail(claims);
  if (typeof email !== 'string') return undefined;
  const at = email.lastIndexOf('@');
  return at < 1 ? undefined : email.slice(at + 1).toLowerCase();
}
