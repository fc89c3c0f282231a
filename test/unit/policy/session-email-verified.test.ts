// The `email` and `domain` criteria over a signed-in user's ID token read an email only when the provider says it is
// verified (`email_verified` true, or "true" as a few providers send it) or says nothing of it: many providers let
// anyone sign up with any address. Here the ext_authz service's reading (`holds`); test/e2e/sign-in.test.ts has
// Envoy's RBAC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StringMatcher } from '../../../control-plane/src/config/index.js';
import type { PolicyCriterion } from '../../../control-plane/src/policy/index.js';
import { at, facts, holds, is } from './evaluate-fixture.js';

const email = (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'session_email', match, at });
const domain = (...match: StringMatcher[]): PolicyCriterion => ({ kind: 'session_domain', match, at });
const notBob: StringMatcher = { op: 'not', value: 'bob@example.com' };
const signedIn = (claims: Record<string, unknown>) => facts({ session: { sub: 'm', ...claims } });
const mallory = (verified?: unknown) =>
  signedIn({ email: 'mallory@example.com', ...(verified === undefined ? {} : { email_verified: verified }) });

test('a verified email, or one the provider says nothing of, is read', () => {
  for (const f of [mallory(true), mallory('true'), mallory()]) {
    assert.equal(holds(email(is('mallory@example.com')), f), true);
    assert.equal(holds(domain(is('example.com')), f), true);
  }
});

test('an email the provider calls unverified is read as no email: only `not` matchers hold', () => {
  for (const f of [mallory(false), mallory('false')]) {
    assert.equal(holds(email(is('mallory@example.com')), f), false);
    assert.equal(holds(domain(is('example.com')), f), false);
    assert.equal(holds(domain({ op: 'ends_with', value: 'example.com' }), f), false);
    assert.equal(holds(email(notBob), f), true, 'as for a token without an email');
    assert.equal(holds(domain({ op: 'not', value: 'other.example' }), f), true);
  }
  // The same as no email claim at all.
  assert.equal(holds(email(notBob), signedIn({})), true);
  assert.equal(holds(email(is('mallory@example.com')), signedIn({})), false);
});

test('any other value of email_verified is no verification', () => {
  for (const verified of [0, 1, null, 'no', 'True', 'yes', [true], {}])
    assert.equal(holds(domain(is('example.com')), mallory(verified)), false, JSON.stringify(verified));
});
