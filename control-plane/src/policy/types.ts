import type { CertificateIdentity } from '../identity/types.js';
import type { Location } from '../source/diagnostics.js';

/** Pomerium's string matcher; several in one criterion must all match. A bare string means `is`. */
export type StringMatcher =
  { op: 'is' | 'starts_with' | 'ends_with' | 'contains' | 'not'; value: string } | { op: 'in'; values: string[] };

/**
 * The SAN types a `client_certificate` matcher can test (`san_dns`, `san_email`, ...): any SAN of the type may match.
 */
export type SanType = 'dns' | 'email' | 'uri' | 'user_principal_name';

/**
 * One condition of a `client_certificate` criterion; several must all hold. `certificate: PEM` becomes its fingerprint.
 */
export type CertificateCondition =
  | { kind: 'fingerprint'; values: string[] } // lower-case hex SHA-256 of the DER, no colons
  | { kind: 'spki_hash'; values: string[] } // base64 SHA-256 of the SubjectPublicKeyInfo
  | { kind: 'san'; san: SanType; match: StringMatcher[] };

type Matchers = { match: StringMatcher[] };
/** A value a `claim/NAME` criterion compares a claim of the ID token with (as YAML wrote it). */
export type ClaimValue = string | number | boolean;
type NoOperand = Record<never, never>;

/**
 * What each PPL criterion carries besides its name, keyed by name: the list of criteria mtls-edge supports.
 * `authenticated_user` (and allow_any_authenticated_user) means: a valid client certificate.
 */
export interface CriterionOperands {
  accept: NoOperand;
  reject: NoOperand;
  authenticated_user: NoOperand;
  invalid_client_certificate: NoOperand;
  email: Matchers;
  domain: Matchers;
  user: Matchers;
  http_method: Matchers;
  http_path: Matchers;
  client_certificate: { conditions: CertificateCondition[] };
  // With an identity provider, what the signed-in user's validated ID token says (policy/criteria-session.ts).
  // The config spells the first four as authenticated_user, email, domain and user: with idp_provider_url set
  // they read the sign-in, as in Pomerium (the certificate's are under client_certificate).
  session_authenticated_user: NoOperand;
  session_email: Matchers;
  session_domain: Matchers;
  session_user: Matchers;
  /** `groups: {has: G}`; `claim` is the ID token claim that lists groups (idp_groups_claim). */
  groups: { group: string; claim: string };
  /** `claim/NAME: value` (or a list of values, any of which may match). */
  claim: { claim: string; values: ClaimValue[] };
}

export type CriterionName = keyof CriterionOperands;

/** One criterion of a policy, as read: its name (`kind`), its operands, and where it was written. */
export type Criterion<K extends CriterionName = CriterionName> = {
  [N in K]: { kind: N; at: Location } & CriterionOperands[N];
}[K];

/** A PPL criterion, whichever it is. */
export type PolicyCriterion = Criterion;

/**
 * One logical operator of a rule with its criteria. As in Pomerium: `and` = all, `or` = any,
 * `not` = none matches (¬A ∧ ¬B), `nor` = at least one does not match (¬A ∨ ¬B).
 */
export interface PolicyClause {
  operator: 'and' | 'or' | 'not' | 'nor';
  criteria: PolicyCriterion[];
  at: Location;
}

/**
 * A route's PPL policy, flattened: every clause of every `allow` rule is ORed, likewise for `deny`
 * (Pomerium ORs the operators of one rule and the rules of one action). Access = some allow and no deny.
 */
export interface RoutePolicy {
  allow: PolicyClause[];
  deny: PolicyClause[];
}

/** What a policy can look at for one request. */
export interface RequestFacts {
  method: string;
  /** The request path without its query string. */
  path: string;
  /** The client certificate's identity; absent when none was presented, or it is not valid for the route. */
  identity?: CertificateIdentity;
  /**
   * Pomerium's invalid_client_certificate: the route trusts a client CA and the request has no valid certificate for
   * it.
   */
  invalidClientCertificate: boolean;
  /** The payload of the signed-in user's ID token, as Envoy validated it; absent when not signed in. */
  session?: Readonly<Record<string, unknown>>;
}

/** What the policy reader needs to know of the config around a policy. */
export interface PolicyContext {
  /** An identity provider is configured: sign-in criteria are readable; `groupsClaim` names the groups claim. */
  signIn?: { groupsClaim: string };
}

/** An allow or deny, with a sentence a person can read on the 403 page. */
export interface Decision {
  allowed: boolean;
  /** For the log: the rule that decided, with its values. */
  reason: string;
  /** For the 403 page, which anyone may read: the same without the values of people and certificates. */
  pageReason?: string;
}
