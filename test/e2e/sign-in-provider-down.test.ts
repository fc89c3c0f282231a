// The identity provider down when the edge starts (issue 17): the edge starts anyway and serves what needs no
// sign-in; routes that need it answer 503 and say why; the control plane keeps asking (idp_refresh_interval), and
// once the provider answers, sign-in works without a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOSTS } from '../support/pki-fixture.js';
import { signInAs, startSignInEdge, type SignInEdge } from '../support/sign-in-fixture.js';

const ROUTES = (upstream: string) =>
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    allow_any_authenticated_user: true\n` +
  `  - from: https://${HOSTS.y}\n    to: ${upstream}\n    allow_public_unauthenticated_access: true\n`;

describe('the identity provider down at start', () => {
  let s: SignInEdge;

  before(async () => {
    s = await startSignInEdge({ routes: ROUTES, providerDown: true, extra: ['idp_refresh_interval: 1s'] });
  });
  after(async () => {
    await s?.stop();
  });

  it('the edge serves public routes, and says sign-in is unavailable where it is needed', async () => {
    assert.equal((await s.browser().get(HOSTS.y, '/', { accept: '*/*' })).status, 200);
    const unavailable = await s.browser().get(HOSTS.x, '/');
    assert.equal(unavailable.status, 503);
    assert.match(unavailable.body, /Sign-in is unavailable/);
    assert.match(s.edge.output(), /routes that need sign-in answer 503 until it can be read/);
    const status = (await (await fetch(`${s.edge.adminUrl}/status`)).json()) as {
      ready: boolean;
      reload: { identityProviderErrors?: Array<{ key: string; text: string }> };
    };
    assert.equal(status.ready, true, 'ready: the edge serves');
    assert.equal(status.reload.identityProviderErrors?.[0]?.key, 'idp_provider_url');
    assert.match(status.reload.identityProviderErrors[0].text, /connection refused after 3 attempts/);
  });

  it('once the provider answers, sign-in works without a restart', async () => {
    await s.idp.resume();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await s.browser().get(HOSTS.x, '/');
      if (res.status === 302) break;
      assert.equal(res.status, 503);
      if (Date.now() > deadline) assert.fail(`still ${res.status} after 20 s:\n${s.edge.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await signInAs(s.browser(), s, HOSTS.x, '/', 'alice')).status, 200);
    const status = (await (await fetch(`${s.edge.adminUrl}/status`)).json()) as { reload: Record<string, unknown> };
    assert.equal(status.reload['identityProviderErrors'], undefined, 'the error is gone');
  });
});
