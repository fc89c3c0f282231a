// The session's cookies stay at the edge on the routes of a sign-in host that need no sign-in too (issue 17,
// review): a public route's upstream that got them could present them on a signed-in route as the user. Through a
// real Envoy and a real provider (oidc-provider), over HTTP/1.1 (one Cookie header, and two) and HTTP/2 (the
// cookies as separate header fields, as browsers send them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendHttp1, sendHttp2, type HeaderRequest, type SendOutcome } from '../support/header-clients.js';
import { HOSTS } from '../support/pki-fixture.js';
import { signInAs, startSignInEdge, type SignInEdge } from '../support/sign-in-fixture.js';

// Host x: a public route, and one that needs the admins group.
const ROUTES = (upstream: string) =>
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    prefix: /public\n` +
  '    allow_public_unauthenticated_access: true\n' +
  `  - from: https://${HOSTS.x}\n    to: ${upstream}\n    prefix: /admins\n` +
  '    policy: {allow: {or: [{groups: {has: admins}}]}}\n';

describe("a sign-in host's routes that need no sign-in", () => {
  let s: SignInEdge;
  /** Alice's session, as `name=value` cookies. */
  let session: string[];

  before(async () => {
    s = await startSignInEdge({ routes: ROUTES });
    const alice = s.browser();
    assert.equal((await signInAs(alice, s, HOSTS.x, '/admins/', 'alice')).status, 200);
    session = [...(alice.cookies.get(HOSTS.x) ?? [])].map(([k, v]) => `${k}=${v}`);
    assert.ok(session.some((c) => c.startsWith('_pomerium_id=')) && session.some((c) => c.startsWith('_pomerium=')));
  });
  after(async () => {
    await s?.stop();
  });

  const request = (path: string, headers: Array<[string, string]>): HeaderRequest => ({
    port: s.port,
    servername: HOSTS.x,
    ca: s.pki.caA,
    path,
    headers: [['accept', '*/*'], ...headers],
  });
  const answered = (outcome: SendOutcome) => ('status' in outcome ? outcome.status : outcome.error);
  const seenCookie = (path: string) => {
    const seen = s.upstream.seen.find((r) => r.url === path);
    assert.ok(seen, `the upstream got ${path}`);
    return seen.headers['cookie'];
  };

  it('pass on the application cookies and none of the session, whichever way they come', async () => {
    // One header, the session among the application's cookies.
    const one = await sendHttp1(request('/public/one', [['cookie', ['app=1', ...session, 'theme=2'].join('; ')]]));
    assert.equal(answered(one), 200);
    assert.equal(seenCookie('/public/one'), 'app=1; theme=2');
    // Two HTTP/1.1 Cookie headers (Envoy joins them with `; `): the session's go, whichever holds them.
    const two = await sendHttp1(
      request('/public/two', [
        ['cookie', `app=1; ${session.join('; ')}`],
        ['cookie', `${session.join('; ')}; theme=2`],
      ]),
    );
    assert.equal(answered(two), 200);
    assert.equal(seenCookie('/public/two'), 'app=1; theme=2');
    // HTTP/2: each cookie its own header field.
    const h2 = await sendHttp2(
      request(
        '/public/h2',
        ['app=1', ...session].map((c) => ['cookie', c]),
      ),
    );
    assert.equal(answered(h2), 200);
    assert.equal(seenCookie('/public/h2'), 'app=1');
    // Only the session's: no Cookie header at all.
    assert.equal(answered(await sendHttp1(request('/public/only', [['cookie', session.join('; ')]]))), 200);
    assert.equal(seenCookie('/public/only'), undefined);
  });

  it('so what a public upstream saw signs no one in on a signed-in route', async () => {
    const seen = await sendHttp1(request('/public/replay', [['cookie', session.join('; ')]]));
    assert.equal(answered(seen), 200);
    const replayed = seenCookie('/public/replay');
    const headers: Array<[string, string]> = replayed === undefined ? [] : [['cookie', String(replayed)]];
    const again = await sendHttp1(request('/admins/replay', headers));
    assert.equal(answered(again), 401, 'not signed in: a script gets 401');
    // While alice's own cookies still are her session there.
    assert.equal(answered(await sendHttp1(request('/admins/alice', [['cookie', session.join('; ')]]))), 200);
  });
});
