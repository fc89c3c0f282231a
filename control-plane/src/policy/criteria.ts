import { describeCondition, describeMatchers } from './describe-operands.js';
import { PEER_HEADERS, type PeerProperty } from './internal-headers.js';
import { anyValue, domainValue, methodValue, pathValue } from './matcher-values.js';
import { conditionHolds, matchesAll } from './matching.js';
import { CERTIFICATE_MATCHER, stringMatcher, TRUE_ONLY, type Operand } from './parse-operands.js';
import * as rbac from './rbac-rules.js';
import { SESSION_CRITERIA, SIGNED_IN_MEANING } from './criteria-session.js';
import type { CertificateCondition, Criterion, CriterionName, CriterionOperands, RequestFacts } from './types.js';

/** How Envoy's RBAC filter decides a criterion, when it can. */
export interface RbacRule<K extends CriterionName> {
  /** Whether Envoy can decide this instance of the criterion; when it cannot, the ext_authz service does. */
  expressible: (c: Criterion<K>) => boolean;
  /** The RBAC principal; `clientCaRequired`: the route trusts a client CA. */
  principal: (c: Criterion<K>, clientCaRequired: boolean) => rbac.RbacPrincipal;
  /** The certificate properties Envoy must copy into internal headers for the principal to read them. */
  peerProperties: (c: Criterion<K>) => readonly PeerProperty[];
}

/** Everything mtls-edge knows about one PPL criterion. */
export interface CriterionSpec<K extends CriterionName> {
  /** When it holds, in words for the configuration reference (Markdown). */
  summary: string;
  /**
   * What a 403 page says instead of `describe`, when the values are people's or certificates' (a page is shown to
   * anyone who asks, so it names the kind of rule, not whom it lets in); undefined: the page shows `describe`.
   */
  onPage: string | undefined;
  /** It reads the client certificate: on a route that asks for none it could never hold. */
  readsCertificate: boolean;
  /** It reads the request's method or path: a decision depends on more than the certificate and the route. */
  readsRequest: boolean;
  /** It reads the signed-in user's ID token: the route needs sign-in (an identity provider). */
  readsSession: boolean;
  /** What the criterion takes in the config (its operands): the reader, and its schema for editors. */
  operand: Operand<CriterionOperands[K]>;
  /** The ext_authz service's evaluation. */
  holds: (c: Criterion<K>, facts: RequestFacts) => boolean;
  /** A short phrase for the 403 page's reason, e.g. `email is "bob@example.com"`. */
  describe: (c: Criterion<K>) => string;
  /** Envoy's RBAC rule, or `ext_authz` when only the ext_authz service can decide it. */
  rbac: RbacRule<K> | 'ext_authz';
}

const ALWAYS = (): boolean => true;
const NO_PROPERTIES = (): readonly PeerProperty[] => [];
const FINGERPRINT: readonly PeerProperty[] = ['fingerprint'];
// `email` and `domain` read the first email SAN, else a common name that is a mail address.
const EMAIL_AND_SUBJECT: readonly PeerProperty[] = ['email', 'subject'];

/**
 * The PPL criteria mtls-edge supports, in the order error messages list them. The type makes a criterion
 * without an entry, or an entry without one of its parts, a compile error.
 */
export const CRITERIA: { readonly [K in CriterionName]: CriterionSpec<K> } = {
  accept: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: false,
    summary: 'always (`accept: true`)',
    onPage: undefined,
    operand: TRUE_ONLY,
    holds: () => true,
    describe: () => 'accept (anyone)',
    rbac: { expressible: ALWAYS, principal: () => rbac.ANY, peerProperties: NO_PROPERTIES },
  },
  reject: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: false,
    summary: 'never (`reject: true`)',
    onPage: undefined,
    operand: TRUE_ONLY,
    holds: () => false,
    describe: () => 'reject (no one)',
    rbac: { expressible: ALWAYS, principal: () => rbac.NOTHING, peerProperties: NO_PROPERTIES },
  },
  authenticated_user: {
    readsCertificate: true,
    readsRequest: false,
    readsSession: false,
    summary: 'the request carries a valid client certificate',
    onPage: undefined,
    operand: TRUE_ONLY,
    holds: (_c, facts) => facts.identity !== undefined,
    describe: () => 'a valid client certificate',
    rbac: {
      expressible: ALWAYS,
      principal: () => rbac.present(PEER_HEADERS.fingerprint),
      peerProperties: () => FINGERPRINT,
    },
  },
  invalid_client_certificate: {
    readsCertificate: true,
    readsRequest: false,
    readsSession: false,
    summary: 'the client certificate is missing or not valid (with a client CA)',
    onPage: undefined,
    operand: TRUE_ONLY,
    holds: (_c, facts) => facts.invalidClientCertificate,
    describe: () => 'a missing or invalid client certificate',
    rbac: {
      expressible: ALWAYS,
      // Without a client CA every request is as valid as it can be (as in Pomerium).
      principal: (_c, ca) => (ca ? rbac.not(rbac.present(PEER_HEADERS.fingerprint)) : rbac.NOTHING),
      peerProperties: () => FINGERPRINT,
    },
  },
  email: {
    readsCertificate: true,
    readsRequest: false,
    readsSession: false,
    summary: "the certificate's email (first email SAN, else a common name that is an address) matches",
    onPage: 'a certificate email this page accepts',
    operand: stringMatcher(anyValue),
    holds: (c, facts) => identityMatches(facts.identity?.email, c.match),
    describe: (c) => describeMatchers('email', c.match),
    rbac: {
      expressible: ALWAYS,
      principal: (c) => rbac.emailPrincipal(c.match),
      peerProperties: () => EMAIL_AND_SUBJECT,
    },
  },
  domain: {
    readsCertificate: true,
    readsRequest: false,
    readsSession: false,
    summary: 'the domain of that email matches',
    onPage: 'a certificate email domain this page accepts',
    operand: stringMatcher(domainValue),
    holds: (c, facts) => identityMatches(facts.identity?.domain, c.match),
    describe: (c) => describeMatchers('domain', c.match),
    rbac: {
      expressible: ALWAYS,
      principal: (c) => rbac.domainPrincipal(c.match),
      peerProperties: () => EMAIL_AND_SUBJECT,
    },
  },
  user: {
    readsCertificate: true,
    readsRequest: false,
    readsSession: false,
    summary: "the certificate's user (its first UPN SAN, else its common name) matches",
    onPage: 'a certificate user name this page accepts',
    operand: stringMatcher(anyValue),
    holds: (c, facts) => identityMatches(facts.identity?.user, c.match),
    describe: (c) => describeMatchers('user', c.match),
    // The user is the UPN SAN, for which Envoy has no formatter.
    rbac: 'ext_authz',
  },
  http_method: {
    readsCertificate: false,
    readsRequest: true,
    readsSession: false,
    summary: 'the request method matches (`GET`, `POST`, …)',
    onPage: undefined,
    operand: stringMatcher(methodValue),
    holds: (c, facts) => matchesAll(facts.method, c.match),
    describe: (c) => describeMatchers('method', c.match),
    rbac: { expressible: ALWAYS, principal: (c) => rbac.methodPrincipal(c.match), peerProperties: NO_PROPERTIES },
  },
  http_path: {
    readsCertificate: false,
    readsRequest: true,
    readsSession: false,
    summary: 'the request path matches',
    onPage: undefined,
    operand: stringMatcher(pathValue),
    holds: (c, facts) => matchesAll(facts.path, c.match),
    describe: (c) => describeMatchers('path', c.match),
    rbac: { expressible: ALWAYS, principal: (c) => rbac.pathPrincipal(c.match), peerProperties: NO_PROPERTIES },
  },
  client_certificate: {
    readsCertificate: true,
    readsRequest: false,
    readsSession: false,
    summary: 'the certificate matches: `fingerprint`, `spki_hash`, `certificate`, or SAN matchers',
    onPage: 'a certificate this page accepts',
    operand: CERTIFICATE_MATCHER,
    holds: (c, facts) => {
      const identity = facts.identity;
      return identity !== undefined && c.conditions.every((cond) => conditionHolds(cond, identity));
    },
    describe: (c) =>
      c.conditions.length === 0 ? 'a valid client certificate' : c.conditions.map(describeCondition).join(' and '),
    rbac: {
      expressible: (c) => c.conditions.every(rbac.envoyTestsCondition),
      principal: (c) => rbac.certificatePrincipal(c.conditions),
      // A fingerprint is compared with the header; SANs are tested by a principal on the connection, and the
      // fingerprint header says the certificate is valid for this route.
      peerProperties: (c) => (c.conditions.some(readsFingerprintHeader) ? FINGERPRINT : []),
    },
  },
  ...SESSION_CRITERIA,
};

function readsFingerprintHeader(k: CertificateCondition): boolean {
  return k.kind === 'fingerprint' || k.kind === 'san';
}

function identityMatches(value: string | undefined, match: Criterion<'email'>['match']): boolean {
  return value !== undefined && matchesAll(value, match);
}

/** The names of the supported criteria, in the table's order. */
export const CRITERION_NAMES = Object.keys(CRITERIA) as CriterionName[];

/** How a config spells a criterion: `session_email` is `email` with sign-in, `claim` is `claim/NAME`. */
export function writtenName(name: CriterionName): string {
  if (name === 'claim') return 'claim/NAME';
  const signedIn = Object.entries(SIGNED_IN_MEANING).find(([, kind]) => kind === name);
  return signedIn ? signedIn[0] : name;
}

/** The names a config writes (the sign-in meanings of email, user, … are spelled as those). */
export const WRITTEN_CRITERION_NAMES = CRITERION_NAMES.filter((n) => !n.startsWith('session_'));

export function isCriterionName(name: string): name is CriterionName {
  return Object.hasOwn(CRITERIA, name);
}

/** The table's entry for a criterion name. */
export function criterionSpec<K extends CriterionName>(kind: K): CriterionSpec<K> {
  return CRITERIA[kind];
}
