import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { RoutePolicy } from '../../../control-plane/src/config/index.js';
import { certificateIdentity } from '../../../control-plane/src/identity/index.js';
import type { CertificateIdentity } from '../../../control-plane/src/identity/types.js';
import { needsExtAuthz } from '../../../control-plane/src/model/authorization.js';
import {
  clauseHolds,
  criterionHolds,
  evaluatePolicy,
  type RequestFacts,
} from '../../../control-plane/src/policy/index.js';
import { envoyAllows, envoyRouteFilters, serviceFacts, type PolicyRequest } from '../../support/envoy-policy-route.js';
import { fuzzCertificate, FuzzIssuer } from '../../support/identity-fuzz.js';
import { ALL_FEATURES, plainCertificate, policyCase, policyFeatures } from '../../support/policy-arbitraries.js';
import { routeConfig } from '../model/config-fixtures.js';
import { testCa } from '../identity/certs.js';
import { propertyRuns } from '../../support/property-runs.js';

/**
 * For random policies (several allow and deny rules, every operator, every criterion Envoy decides, every
 * string matcher) and random requests (a certificate valid for the route, none, an unverified one, one valid
 * only for another route of the host), the route's RBAC filters as Envoy runs them (support/envoy-policy-route.ts)
 * and the ext_authz service's evaluator give the same answer. The certificates are real, parsed as the service
 * parses them; test/e2e/policy-operators-agreement.test.ts checks a sample against a real Envoy.
 */
const CLIENT_CA = {
  pem: 'unused: only its presence matters to the model',
  fingerprints: ['00'],
  origin: 'client_ca_file (ca.pem)',
};

function routeWith(policy: RoutePolicy) {
  return routeConfig('app.example.com', 0, { policy, access: 'policy', clientCa: CLIENT_CA });
}

function decide(policy: RoutePolicy, request: PolicyRequest): { envoy: boolean; service: boolean } {
  const envoy = envoyAllows(envoyRouteFilters(routeWith(policy)), request);
  const service = evaluatePolicy(policy, serviceFacts(request, true)).allowed;
  return { envoy, service };
}

/**
 * Each criterion, certificate condition and clause of the policy with whether it held: matches must happen, and
 * fail.
 */
function outcomes(policy: RoutePolicy, facts: RequestFacts): string[] {
  const out: string[] = [];
  for (const c of [...policy.allow, ...policy.deny]) {
    out.push(`${c.operator} ${clauseHolds(c, facts)}`);
    for (const k of c.criteria) {
      out.push(`${k.kind} ${criterionHolds(k, facts)}`);
      if (k.kind !== 'client_certificate') continue;
      for (const cond of k.conditions)
        out.push(
          `${cond.kind === 'san' ? `san ${cond.san}` : cond.kind} ` +
            `${criterionHolds({ ...k, conditions: [cond] }, facts)}`,
        );
    }
  }
  return out;
}

const describeRequest = (r: PolicyRequest) =>
  `${r.method} ${r.path}, certificate ${r.peer.state}` +
  (r.peer.state === 'none'
    ? ''
    : ` ${JSON.stringify({ ...r.peer.identity, fingerprint: r.peer.identity.fingerprint.slice(0, 8) })}`);

describe('Envoy RBAC and the ext_authz evaluator agree on random policies and requests', () => {
  let identities: CertificateIdentity[];
  before(async () => {
    const issuer = new FuzzIssuer(await testCa());
    const specs = [
      ...fc.sample(plainCertificate, { seed: 11, numRuns: 40 }),
      ...fc.sample(fuzzCertificate, { seed: 12, numRuns: 12 }),
    ];
    identities = [];
    for (const spec of specs) identities.push(certificateIdentity((await issuer.issue(spec)).certPem));
  });

  it('gives the same answer, for every operator, criterion and matcher, and both answers often', () => {
    const seen = new Map<string, number>();
    const answers = { allowed: 0, denied: 0 };
    const byPeer = new Map<string, Set<boolean>>();
    fc.assert(
      fc.property(policyCase(identities), ({ policy, request }) => {
        assert.ok(!needsExtAuthz(policy), 'the generator makes only policies Envoy decides');
        const { envoy, service } = decide(policy, request);
        assert.equal(
          envoy,
          service,
          `Envoy ${envoy}, service ${service}: ${describeRequest(request)}\npolicy ` +
            `${JSON.stringify(policy, (k, v: unknown) => (k === 'at' ? undefined : v))}`,
        );
        for (const f of [...policyFeatures(policy), ...outcomes(policy, serviceFacts(request, true))])
          seen.set(f, (seen.get(f) ?? 0) + 1);
        answers[service ? 'allowed' : 'denied']++;
        byPeer.set(request.peer.state, (byPeer.get(request.peer.state) ?? new Set()).add(service));
      }),
      propertyRuns(3000),
    );
    const total = answers.allowed + answers.denied;
    // A generator that lets nothing (or everything) through would agree trivially.
    assert.ok(
      answers.allowed > total / 5 && answers.denied > total / 5,
      `allowed ${answers.allowed}, denied ${answers.denied}`,
    );
    for (const f of ALL_FEATURES)
      assert.ok((seen.get(f) ?? 0) >= 30, `the generator made "${f}" only ${seen.get(f) ?? 0} times`);
    const decided = [
      'and',
      'or',
      'not',
      'nor',
      'authenticated_user',
      'invalid_client_certificate',
      'http_method',
      'http_path',
      'email',
      'domain',
      'fingerprint',
      'san dns',
      'san email',
      'san uri',
    ];
    for (const f of decided.flatMap((k) => [`${k} true`, `${k} false`]))
      assert.ok((seen.get(f) ?? 0) >= 30, `"${f}" came out only ${seen.get(f) ?? 0} times`);
    for (const state of ['valid', 'none', 'unverified', 'other-route'])
      assert.deepEqual(byPeer.get(state), new Set([true, false]), `both answers with certificate ${state}`);
  });
});
