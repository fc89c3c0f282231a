// Shared setup of the policy, signing_key and jwt_claims_headers tests: a one-route config around a policy.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import {
  formatError,
  type ConfigError,
  type PolicyClause,
  type RouteConfig,
  type RoutePolicy,
} from '../../../control-plane/src/config/index.js';
import {
  CONFIG_FILE,
  MemoryFiles,
  assertError,
  expectErrors,
  expectOk,
  loadPems,
  run,
  standardFiles,
  yaml,
  type Pems,
} from './fixture.js';

export let pems: Pems;
/** Loads the test PEMs; each test file calls it from its `before` hook. */
export async function loadTestPems(): Promise<void> {
  pems = await loadPems();
}
export const files = () => new MemoryFiles(standardFiles(pems));
export const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
export const at = (line: number | undefined, key: string) => ({ file: CONFIG_FILE, line, key });
/** Six lines; the route's `policy:` is line 7 and the policy itself starts on line 8. */
export const HEAD = yaml`
  certificate_file: server.pem
  certificate_key_file: server-key.pem
  client_ca_file: ca.pem
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:8080
`;
export const NO_CA_HEAD = HEAD.replace('client_ca_file: ca.pem\n', '');

export const indent = (text: string, spaces: number) => text.replace(/^(?=.)/gm, ' '.repeat(spaces));

/** A config whose one route has `policy` (line 8 on) and then `extra` route keys. */
export function withPolicy(policy: string, extra = '', head = HEAD): string {
  return head + '    policy:\n' + indent(policy, 6) + indent(extra, 4);
}

export function routeOf(text: string): RouteConfig {
  const config = expectOk(run(text, { files: files() }));
  assert.equal(config.routes.length, 1);
  return config.routes[0]!;
}

export const policyOf = (policy: string, extra = ''): RoutePolicy => routeOf(withPolicy(policy, extra)).policy!;
export const errorsOf = (text: string, env: Record<string, string> = {}) =>
  expectErrors(run(text, { files: files(), env }));

/** Keeps only what a policy means (operators, criteria, matchers), without locations. */
export function shape(clauses: PolicyClause[]): unknown {
  return clauses.map((c) => ({ [c.operator]: c.criteria.map(({ at: _at, ...rest }) => rest) }));
}
/** Asserts that `errors` is exactly the one expected error. */
export const only = (errors: ConfigError[], expected: { key: string; line: number; message: RegExp }) => {
  assertError(errors, expected);
  assert.equal(errors.length, 1, errors.map(formatError).join('\n'));
};
export const BASE = yaml`
  certificate_file: server.pem
  certificate_key_file: server-key.pem
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:8080
      allow_public_unauthenticated_access: true
`;
