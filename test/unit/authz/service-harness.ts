// Shared setup of the ext_authz service tests: a service over a table, and assertions on its answers.
import assert from 'node:assert/strict';
import {
  AuthorizationService,
  type AuthorizationServiceOptions,
  type AuthorizationTable,
  type CheckResponse,
  type DecisionOutcome,
} from '../../../control-plane/src/authz/index.js';
import { createAuthzPki, criterion, is, or, route, silentLogger, type AuthzPki } from './fixtures.js';

export let pki: AuthzPki;
/** Issues the test PKI; each test file calls it from its `before` hook. */
export async function loadTestPki(): Promise<void> {
  pki = await createAuthzPki();
}
export interface Harness {
  service: AuthorizationService;
  outcomes: DecisionOutcome[];
  setTable(table: AuthorizationTable): void;
}

export function harness(table: AuthorizationTable, over: Partial<AuthorizationServiceOptions> = {}): Harness {
  let current = table;
  const outcomes: DecisionOutcome[] = [];
  const service = new AuthorizationService({
    table: () => current,
    signer: () => undefined,
    log: silentLogger(),
    onDecision: (o) => outcomes.push(o),
    ...over,
  });
  return { service, outcomes, setTable: (t) => (current = t) };
}

export function header(response: CheckResponse, name: string): string | undefined {
  return response.ok_response?.headers.find((h) => h.header.key.toLowerCase() === name.toLowerCase())?.header.value;
}

export function assertDenied(response: CheckResponse, reason: string | RegExp): void {
  assert.equal(response.status.code, 7);
  assert.equal(response.ok_response, undefined);
  assert.equal(response.dynamic_metadata, undefined, 'no mark of an allow');
  const denied = response.denied_response;
  assert.ok(denied, 'a denied_response');
  assert.equal(denied.status.code, 'Forbidden');
  assert.deepEqual(denied.headers, [
    {
      header: { key: 'content-type', value: 'text/plain; charset=utf-8' },
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    },
  ]);
  if (typeof reason === 'string') assert.equal(denied.body, reason);
  else assert.match(denied.body, reason);
}

export function assertAllowed(response: CheckResponse): void {
  assert.equal(response.status.code, 0, response.denied_response?.body);
  assert.equal(response.denied_response, undefined);
  assert.ok(response.ok_response);
  // What tells Envoy's second ext_authz filter that this request was decided (it asks again otherwise).
  assert.deepEqual(response.dynamic_metadata?.fields['mtls_edge_allowed'], { bool_value: true });
}

export const aliceOnly = () => route('route-1', { allow: [or(criterion.email(is('alice@example.com')))], deny: [] });
