// mTLS stays first under the policy enforcements too (issue 17, point 6): with downstream_mtls.enforcement
// policy_with_default_deny the handshake admits a missing certificate, and the request gets the 495 page before
// any redirect to the provider; with a valid certificate, sign-in goes on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOSTS } from '../support/pki-fixture.js';
import { signInAs, startSignInEdge, type SignInEdge } from '../support/sign-in-fixture.js';

const ROUTES = (upstream: string) =>
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    policy: {allow: {or: [{domain: {is: example.com}}]}}\n`;

describe('sign-in under downstream_mtls.enforcement: policy_with_default_deny', () => {
  let s: SignInEdge;

  before(async () => {
    s = await startSignInEdge({
      routes: ROUTES,
      extra: ['downstream_mtls:', '  ca_file: ca-a.pem', '  enforcement: policy_with_default_deny'],
    });
  });
  after(async () => {
    await s?.stop();
  });

  it('no certificate, or one from another CA: the 495 page, and the provider is never asked', async () => {
    const before = s.idp.counts.authorization;
    for (const certificate of [undefined, s.pki.clientB]) {
      const res = await s.browser(certificate).get(HOSTS.x, '/');
      assert.equal(res.status, 495, res.body.slice(0, 300));
      assert.match(res.body, /A valid client certificate is required/);
      assert.equal(res.headers?.['location'], undefined);
    }
    assert.equal(s.idp.counts.authorization, before);
  });

  it('a valid certificate: the sign-in, then the page', async () => {
    assert.equal((await signInAs(s.browser(s.pki.clientA), s, HOSTS.x, '/', 'alice')).status, 200);
  });
});
