// The criteria table (policy/criteria.ts) is the one list of PPL criteria: each has an entry, each entry every part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CRITERIA,
  CRITERION_NAMES,
  criterionSpec,
  writtenName,
  WRITTEN_CRITERION_NAMES,
  type CriterionSpec,
  type RbacRule,
} from '../../../control-plane/src/policy/criteria.js';
import { readPolicy } from '../../../control-plane/src/policy/parse.js';
import type { CriterionName } from '../../../control-plane/src/policy/types.js';
import { Diagnostics } from '../../../control-plane/src/source/diagnostics.js';
import { parseYamlSource } from '../../../control-plane/src/source/source.js';

/** The criteria that read the sign-in: written as email, groups, … with an identity provider configured. */
const SESSION_NAMES: readonly CriterionName[] = [
  'session_authenticated_user',
  'session_email',
  'session_domain',
  'session_user',
  'groups',
  'claim',
];

/** Every criterion name, as the compiler knows them: a name missing here, or one too many, does not compile. */
const EVERY_NAME: Record<CriterionName, true> = {
  accept: true,
  reject: true,
  authenticated_user: true,
  invalid_client_certificate: true,
  email: true,
  domain: true,
  user: true,
  http_method: true,
  http_path: true,
  client_certificate: true,
  session_authenticated_user: true,
  session_email: true,
  session_domain: true,
  session_user: true,
  groups: true,
  claim: true,
};

test('the table has an entry for every criterion, and nothing else', () => {
  assert.deepEqual([...CRITERION_NAMES].sort(), Object.keys(EVERY_NAME).sort());
});

test('every entry has every part', () => {
  for (const name of CRITERION_NAMES) {
    const spec = criterionSpec(name);
    assert.equal(typeof spec.readsCertificate, 'boolean', name);
    assert.equal(typeof spec.readsRequest, 'boolean', name);
    assert.equal(typeof spec.readsSession, 'boolean', name);
    assert.equal(typeof spec.summary, 'string', name);
    assert.equal(typeof spec.operand.schema, 'object', name);
    for (const part of [spec.operand.read, spec.holds, spec.describe]) assert.equal(typeof part, 'function', name);
    if (spec.rbac !== 'ext_authz') {
      for (const part of [spec.rbac.expressible, spec.rbac.principal, spec.rbac.peerProperties]) {
        assert.equal(typeof part, 'function', name);
      }
    }
  }
});

test('the parser takes every criterion of the table, and names them all when it refuses one', () => {
  const text = (criterion: string) => `policy:\n  allow:\n    or:\n      - ${criterion}\n`;
  const read = (criterion: string, signIn = false) => {
    const diag = new Diagnostics();
    const source = parseYamlSource(text(criterion), 'test.yaml');
    const policyValue = source.value?.kind === 'map' ? source.value.entries.get('policy') : undefined;
    assert.ok(policyValue);
    const context = signIn ? { signIn: { groupsClaim: 'groups' } } : {};
    return { result: readPolicy(policyValue, diag, context), errors: diag.errors.map((e) => e.message) };
  };
  const values: Record<CriterionName, string> = {
    accept: 'true',
    reject: 'true',
    authenticated_user: 'true',
    invalid_client_certificate: 'true',
    email: 'a@example.com',
    domain: 'example.com',
    user: 'alice',
    http_method: 'GET',
    http_path: '/a',
    client_certificate: `{fingerprint: ${'ab'.repeat(32)}}`,
    session_authenticated_user: 'true',
    session_email: 'a@example.com',
    session_domain: 'example.com',
    session_user: 'alice',
    groups: '{has: admins}',
    claim: 'sales',
  };
  for (const name of CRITERION_NAMES) {
    const signIn = SESSION_NAMES.includes(name);
    const { result, errors } = read(`${writtenName(name).replace('NAME', 'department')}: ${values[name]}`, signIn);
    assert.deepEqual(errors, [], name);
    assert.equal(result.policy?.allow[0]?.criteria[0]?.kind, name);
  }
  const { errors } = read('groups: {has: admins}');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^"groups" reads the signed-in user's ID token, and no identity provider is configured/);
  const unknown = read('no_such_criterion: true').errors;
  assert.deepEqual(unknown, [
    `unknown criterion "no_such_criterion"; supported criteria: ${WRITTEN_CRITERION_NAMES.map(writtenName).join(', ')}`,
  ]);
});

// Type-level: these lines are compiled with the tests, and each must fail to compile (else tsc reports an
// unused @ts-expect-error). They show that a criterion without an entry, or an entry without a part, is an error.
const { user: _user, ...withoutUser } = CRITERIA;
// @ts-expect-error a criterion without an entry in the table
export const missingEntry: { readonly [K in CriterionName]: CriterionSpec<K> } = withoutUser;

const { describe: _describe, ...acceptWithoutDescription } = CRITERIA.accept;
// @ts-expect-error an entry without its description for the 403 page
export const missingPart: CriterionSpec<'accept'> = acceptWithoutDescription;

const emailRule = CRITERIA.email.rbac as RbacRule<'email'>;
const { peerProperties: _peerProperties, ...emailRuleWithoutPeerProperties } = emailRule;
// @ts-expect-error an RBAC rule without the peer properties it reads
export const missingRulePart: CriterionSpec<'email'>['rbac'] = emailRuleWithoutPeerProperties;
