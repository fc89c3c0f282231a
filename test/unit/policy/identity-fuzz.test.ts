import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { RoutePolicy } from '../../../control-plane/src/config/index.js';
import { certificateIdentity } from '../../../control-plane/src/identity/index.js';
import { needsExtAuthz } from '../../../control-plane/src/model/authorization.js';
import { evaluatePolicy } from '../../../control-plane/src/policy/index.js';
import { buildRbacPolicies } from '../../../control-plane/src/translate/rbac.js';
import { FUZZ_CRITERIA, fuzzCertificate, FuzzIssuer } from '../../support/identity-fuzz.js';
import { envoyView, principalHolds } from '../../support/rbac-interpreter.js';
import { expectOk, loadPems, MemoryFiles, run, standardFiles } from '../config/fixture.js';
import { testCa } from '../identity/certs.js';
import { propertyRuns } from '../../support/property-runs.js';

/**
 * Random subjects and SANs through real certificates: identity extraction never throws, and what Envoy's RBAC
 * would decide (the translated principals, over Envoy's view of the certificate) is what the ext_authz
 * service's evaluator decides, for every criterion Envoy decides. "Envoy's view" is built from this project's own
 * reading of the certificate, so this checks the translation against the evaluator, not BoringSSL's parsing: that
 * is what test/e2e/policy-agreement.test.ts does, through a real Envoy, on a random sample and the tricky cases.
 */
describe('identity extraction and the two deciders, on random certificates', () => {
  let policies: Array<{ criterion: string; policy: RoutePolicy }>;
  let issuer: FuzzIssuer;
  before(async () => {
    const routes = FUZZ_CRITERIA.map(
      (c, i) =>
        `  - from: https://r${i}.example.com\n    to: http://127.0.0.1:8080\n    policy:\n      allow:\n        or:\n          - ${c}\n`,
    );
    const config = expectOk(
      run(
        `certificate_file: server.pem\ncertificate_key_file: ` +
          `server-key.pem\nclient_ca_file: ca.pem\nroutes:\n${routes.join('')}`,
        { files: new MemoryFiles(standardFiles(await loadPems())) },
      ),
    );
    policies = config.routes.map((r, i) => ({ criterion: FUZZ_CRITERIA[i]!, policy: r.policy! }));
    for (const { criterion, policy } of policies)
      assert.ok(!needsExtAuthz(policy), `${criterion} is one Envoy decides`);
    issuer = new FuzzIssuer(await testCa());
  });

  it('never throws, and RBAC and the evaluator agree on every certificate and criterion', async () => {
    const allowed = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fuzzCertificate, async (c) => {
        const { certPem } = await issuer.issue(c);
        const identity = certificateIdentity(certPem);
        const view = envoyView(identity);
        for (const { criterion, policy } of policies) {
          const principal = (
            buildRbacPolicies(policy, true).allow['policies'] as Record<
              string,
              { principals: Array<Record<string, unknown>> }
            >
          )['allow-rule-1']!.principals[0]!;
          const envoy = principalHolds(principal, view);
          const service = evaluatePolicy(policy, {
            identity,
            invalidClientCertificate: false,
            method: 'GET',
            path: '/',
          }).allowed;
          assert.equal(envoy, service, `${criterion}: Envoy ${envoy}, service ${service}, for ${JSON.stringify(c)}`);
          if (service) allowed.add(criterion);
        }
      }),
      propertyRuns(300),
    );
    // Not a test that cannot fail on the allowing side: most criteria let some random certificate in.
    assert.ok(allowed.size >= FUZZ_CRITERIA.length - 3, `allowed at least once: ${[...allowed].join('; ')}`);
  });
});
