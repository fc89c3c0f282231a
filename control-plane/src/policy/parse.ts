import type { Diagnostics, Location } from '../source/diagnostics.js';
import { checkKeys } from '../source/fields.js';
import { describeKind, type SourceValue } from '../source/source.js';
import { criterionSpec, isCriterionName } from './criteria.js';
import type { Criterion, CriterionName, PolicyClause, PolicyContext, PolicyCriterion, RoutePolicy } from './types.js';
import { SIGN_IN_ONLY, SIGNED_IN_MEANING } from './criteria-session.js';
import type { OperandContext } from './parse-operands.js';
import { unsupportedMessage } from './unsupported-criteria.js';

/**
 * Pomerium Policy Language (PPL), as far as a client certificate and the request can answer it.
 *
 * A policy is one rule or a list of rules; a rule maps `allow` and/or `deny` to a mapping of logical
 * operators (`and`, `or`, `not`, `nor`), each to a list of criteria; a criterion is a mapping with a single
 * key, its name. Every operator of every rule becomes one PolicyClause, in source order. What each criterion
 * takes is in the criteria table (criteria.ts).
 */

export const ACTIONS = ['allow', 'deny'] as const;
export const OPERATORS = ['and', 'or', 'not', 'nor'] as const;

/**
 * Reads a route's `policy`. `policy` is undefined (with every problem reported) when it is not valid;
 * `partial` holds whatever criteria did read, so that checks across the route can still report theirs.
 */
export function readPolicy(
  value: SourceValue,
  diag: Diagnostics,
  context: PolicyContext = {},
): { policy?: RoutePolicy; partial: RoutePolicy } {
  const before = diag.errors.length;
  const partial: RoutePolicy = { allow: [], deny: [] };
  if (value.kind === 'list') {
    for (const rule of value.items) readRule(rule, partial, diag, context);
  } else if (value.kind === 'map') {
    // `policy: {}` is no rule at all: reported below, as for `policy: []`.
    if (value.entries.size > 0) readRule(value, partial, diag, context);
  } else {
    diag.error(
      value.at,
      `expected a rule (a mapping with allow and/or deny) or a list of rules, got ${describeKind(value)}`,
    );
  }
  if (diag.errors.length > before) return { partial };
  if (partial.allow.length === 0 && partial.deny.length === 0) {
    diag.error(
      value.at,
      'policy has no allow or deny rule (e.g. policy: {allow: {or: [{email: {is: alice@example.com}}]}})',
    );
    return { partial };
  }
  return { policy: partial, partial };
}

/** The criteria of a policy that read the client certificate, in source order. */
export function identityCriteria(policy: RoutePolicy): PolicyCriterion[] {
  const all = [...policy.allow, ...policy.deny].flatMap((clause) => clause.criteria);
  return all.filter((c) => criterionSpec(c.kind).readsCertificate);
}

/** The clause `allow_any_authenticated_user: true` adds to a route's policy: signed in, else a valid certificate. */
export function anyAuthenticatedUserClause(at: Location, signIn: boolean): PolicyClause {
  return { operator: 'or', criteria: [{ kind: signIn ? 'session_authenticated_user' : 'authenticated_user', at }], at };
}

/** The criteria of a policy that read the signed-in user's ID token: the route needs sign-in. */
export function sessionCriteria(policy: RoutePolicy): PolicyCriterion[] {
  const all = [...policy.allow, ...policy.deny].flatMap((clause) => clause.criteria);
  return all.filter((c) => criterionSpec(c.kind).readsSession);
}

function readRule(rule: SourceValue, policy: RoutePolicy, diag: Diagnostics, context: PolicyContext): void {
  if (rule.kind !== 'map') {
    diag.error(rule.at, `expected a rule: a mapping with allow and/or deny, got ${describeKind(rule)}`);
    return;
  }
  checkKeys(rule, ACTIONS, diag);
  if (rule.entries.size === 0) diag.error(rule.at, 'empty rule: give it allow and/or deny');
  for (const action of ACTIONS) {
    const v = rule.entries.get(action);
    if (v) policy[action].push(...readAction(v, action, diag, context));
  }
}

function readAction(v: SourceValue, action: string, diag: Diagnostics, context: PolicyContext): PolicyClause[] {
  if (v.kind !== 'map') {
    diag.error(
      v.at,
      `expected a mapping of logical operators (and, or, not, nor) to lists of criteria, got ${describeKind(v)}`,
    );
    return [];
  }
  checkKeys(v, OPERATORS, diag);
  if (v.entries.size === 0) diag.error(v.at, `${action} needs at least one of and, or, not, nor`);
  const clauses: PolicyClause[] = [];
  // Map order is source order: the clauses follow the file.
  for (const [key, list] of v.entries) {
    if (!(OPERATORS as readonly string[]).includes(key)) continue;
    const operator = key as PolicyClause['operator'];
    if (list.kind !== 'list') {
      diag.error(
        list.at,
        `expected a list of criteria (e.g. - email: {is: alice@example.com}), got ${describeKind(list)}`,
      );
      continue;
    }
    if (list.items.length === 0) {
      // An empty `and` or `not` holds for every request, an empty `or` or `nor` for none: both are surely mistakes.
      diag.error(list.at, 'expected at least one criterion');
      continue;
    }
    const criteria = list.items
      .map((item) => readCriterion(item, diag, context))
      .filter((c): c is PolicyCriterion => c !== undefined);
    clauses.push({ operator, criteria, at: list.at });
  }
  return clauses;
}

function readCriterion(item: SourceValue, diag: Diagnostics, context: PolicyContext): PolicyCriterion | undefined {
  if (item.kind !== 'map') {
    diag.error(
      item.at,
      `expected a criterion: a mapping with one key, such as email: {is: alice@example.com}; got ${describeKind(item)}`,
    );
    return undefined;
  }
  if (item.entries.size !== 1) {
    const keys = [...item.entries.keys()];
    diag.error(
      item.at,
      keys.length === 0
        ? 'empty criterion: give it one key, such as email: {is: alice@example.com}'
        : `a criterion has exactly one key, got ${keys.length} (${keys.join(', ')}): put each in its own list item`,
    );
    return undefined;
  }
  const [key, value] = [...item.entries][0]!;
  // Pomerium names some criteria with a sub path (`claim/groups`): the name is what precedes the first "/".
  const slash = key.indexOf('/');
  const written = slash < 0 ? key : key.slice(0, slash);
  const subPath = slash < 0 ? undefined : key.slice(slash + 1);
  // With sign-in, email/user/domain/authenticated_user read the ID token, as in Pomerium.
  const name =
    context.signIn && Object.hasOwn(SIGNED_IN_MEANING, written) ? SIGNED_IN_MEANING[written as SignedInName] : written;
  if (!isWrittenCriterionName(name) || (!context.signIn && SIGN_IN_ONLY.includes(name))) {
    diag.error(value.at, unsupportedMessage(written, key, context.signIn !== undefined));
    return undefined;
  }
  if (subPath !== undefined && name !== 'claim') {
    diag.error(value.at, `${written} takes no sub path (got "${key}"); write ${written}: ...`);
    return undefined;
  }
  return readOperands(name, value, diag, { subPath, groupsClaim: context.signIn?.groupsClaim });
}

type SignedInName = keyof typeof SIGNED_IN_MEANING;

/** A name the table knows, written as a config writes it (not `session_email`: that is `email` with sign-in). */
function isWrittenCriterionName(name: string): name is CriterionName {
  return (
    isCriterionName(name) && (!name.startsWith('session_') || Object.values(SIGNED_IN_MEANING).includes(name as never))
  );
}

function readOperands<K extends CriterionName>(
  kind: K,
  value: SourceValue,
  diag: Diagnostics,
  context: OperandContext,
): Criterion<K> | undefined {
  const operands = criterionSpec(kind).operand.read(value, kind, diag, context);
  // The table's reader for K gives K's operands: together with K they make a Criterion<K>.
  return operands && ({ kind, ...operands, at: value.at } as Criterion<K>);
}
