import { describeMatchers } from './describe-operands.js';
import { anyValue, domainValue } from './matcher-values.js';
import { matchesAll } from './matching.js';
import { stringMatcher, TRUE_ONLY, type Operand } from './parse-operands.js';
import type { CriterionSpec } from './criteria.js';
import {
  anyClaimValuePrincipal,
  claimHolds,
  emailClaimPrincipal,
  emailDomain,
  emailDomainPrincipal,
  groupPrincipal,
  SIGNED_IN,
  stringClaimHolds,
  stringClaimPrincipal,
} from './session-claims.js';
import { verifiedEmail } from '../identity/session-email.js';
import { describeKind, type SourceValue } from '../source/source.js';
import type { ClaimValue, CriterionOperands } from './types.js';
import type { Diagnostics } from '../source/diagnostics.js';

type SessionCriterion =
  'session_authenticated_user' | 'session_email' | 'session_domain' | 'session_user' | 'groups' | 'claim';

const NO_PROPERTIES = () => [] as const;
const quote = (v: unknown): string => JSON.stringify(v);

/** `groups: {has: admins}` (Pomerium's list matcher), or `groups: admins`. */
const GROUP: Operand<CriterionOperands['groups']> = {
  read: (value, _name, diag, context) => {
    const claim = context.groupsClaim ?? 'groups';
    const has = value.kind === 'map' && value.entries.size === 1 ? value.entries.get('has') : value;
    if (has?.kind === 'scalar' && (typeof has.value === 'string' || typeof has.value === 'number'))
      return { group: String(has.value), claim };
    diag.error(value.at, `expected {has: GROUP} (or a group's name), got ${describeKind(value)}`);
    return undefined;
  },
  schema: {
    description: 'the user is in this group: `{has: GROUP}`',
    anyOf: [
      { type: ['string', 'number'] },
      {
        type: 'object',
        properties: { has: { type: ['string', 'number'] } },
        required: ['has'],
        additionalProperties: false,
      },
    ],
  },
};

/** `claim/NAME: value`, or a list of values of which the claim must be (or hold) one. */
const CLAIM: Operand<CriterionOperands['claim']> = {
  read: (value, _name, diag, context) => {
    const claim = context.subPath;
    if (claim === undefined || claim === '' || /[\s/]/.test(claim)) {
      diag.error(value.at, 'write claim/NAME, with the name of an ID token claim (e.g. claim/department: sales)');
      return undefined;
    }
    const items = value.kind === 'list' ? value.items : [value];
    const values = items.map((item) => claimValue(item, diag));
    if (items.length === 0) diag.error(value.at, 'expected at least one value');
    return values.every((v) => v !== undefined) && values.length > 0 ? { claim, values } : undefined;
  },
  schema: {
    description: 'the claim is this value (or a list holding it); a list of values: any of them',
    anyOf: [
      { type: ['string', 'number', 'boolean'] },
      { type: 'array', minItems: 1, items: { type: ['string', 'number', 'boolean'] } },
    ],
  },
};

function claimValue(item: SourceValue, diag: Diagnostics): ClaimValue | undefined {
  if (item.kind === 'scalar' && ['string', 'number', 'boolean'].includes(typeof item.value))
    return item.value as ClaimValue;
  diag.error(item.at, `expected a string, number or true/false, got ${describeKind(item)}`);
  return undefined;
}

/**
 * The criteria that read a signed-in user's ID token (with an identity provider configured). Envoy decides each
 * with an RBAC principal over the token's validated payload (session-claims.ts); none needs the ext_authz service.
 */
export const SESSION_CRITERIA: { readonly [K in SessionCriterion]: CriterionSpec<K> } = {
  session_authenticated_user: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: true,
    summary: 'with an identity provider: the user is signed in',
    onPage: undefined,
    operand: TRUE_ONLY,
    holds: (_c, facts) => facts.session !== undefined,
    describe: () => 'signed in',
    rbac: { expressible: () => true, principal: () => SIGNED_IN, peerProperties: NO_PROPERTIES },
  },
  session_email: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: true,
    summary: "with an identity provider: the signed-in user's email claim matches (if the provider verified it)",
    onPage: 'a signed-in email this page accepts',
    operand: stringMatcher(anyValue),
    holds: (c, facts) => {
      if (facts.session === undefined) return false;
      const email = verifiedEmail(facts.session);
      return email !== undefined ? matchesAll(email, c.match) : c.match.every((m) => m.op === 'not');
    },
    describe: (c) => describeMatchers('signed-in email', c.match),
    rbac: {
      expressible: () => true,
      principal: (c) => emailClaimPrincipal(c.match),
      peerProperties: NO_PROPERTIES,
    },
  },
  session_domain: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: true,
    summary: "with an identity provider: the domain of the signed-in user's verified email matches",
    onPage: 'a signed-in email domain this page accepts',
    operand: stringMatcher(domainValue),
    holds: (c, facts) => {
      if (facts.session === undefined) return false;
      const domain = emailDomain(facts.session);
      return domain !== undefined ? matchesAll(domain, c.match) : c.match.every((m) => m.op === 'not');
    },
    describe: (c) => describeMatchers('signed-in email domain', c.match),
    rbac: { expressible: () => true, principal: (c) => emailDomainPrincipal(c.match), peerProperties: NO_PROPERTIES },
  },
  session_user: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: true,
    summary: "with an identity provider: the signed-in user's id (the `sub` claim) matches",
    onPage: 'a signed-in user this page accepts',
    operand: stringMatcher(anyValue),
    holds: (c, facts) => facts.session !== undefined && stringClaimHolds(facts.session, 'sub', c.match),
    describe: (c) => describeMatchers('signed-in user', c.match),
    rbac: {
      expressible: () => true,
      principal: (c) => stringClaimPrincipal('sub', c.match),
      peerProperties: NO_PROPERTIES,
    },
  },
  groups: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: true,
    summary:
      'with an identity provider: the signed-in user is in the group (`{has: GROUP}`), read from `idp_groups_claim`',
    onPage: 'membership of a group this page accepts',
    operand: GROUP,
    holds: (c, facts) => claimHolds(facts.session, c.claim, [c.group]),
    describe: (c) => `member of group ${quote(c.group)}`,
    rbac: {
      expressible: () => true,
      principal: (c) => groupPrincipal(c.claim, c.group),
      peerProperties: NO_PROPERTIES,
    },
  },
  claim: {
    readsCertificate: false,
    readsRequest: false,
    readsSession: true,
    summary:
      'with an identity provider: `claim/NAME: value` — the ID token claim NAME is the value, or a list holding it',
    onPage: 'a sign-in claim this page accepts',
    operand: CLAIM,
    holds: (c, facts) => claimHolds(facts.session, c.claim, c.values),
    describe: (c) => `claim ${quote(c.claim)} is ${c.values.map(quote).join(' or ')}`,
    rbac: {
      expressible: () => true,
      principal: (c) => anyClaimValuePrincipal(c.claim, c.values),
      peerProperties: NO_PROPERTIES,
    },
  },
};

/** With an identity provider, these criteria read the sign-in instead of the certificate (as in Pomerium). */
export const SIGNED_IN_MEANING = {
  authenticated_user: 'session_authenticated_user',
  email: 'session_email',
  domain: 'session_domain',
  user: 'session_user',
} as const satisfies Record<string, SessionCriterion>;

/** The criteria only a sign-in can answer (no identity provider: an error says how to configure one). */
export const SIGN_IN_ONLY: readonly string[] = ['groups', 'claim'];
