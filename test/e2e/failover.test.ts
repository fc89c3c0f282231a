// Issue 13: a control-plane replica dies (SIGKILL) and the Envoys, and every ext_authz Check, move to the other one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { httpsGet } from '../support/https-client.js';
import { HOSTS } from '../support/pki-fixture.js';
import { steadyLoad, type RunningLoad } from '../support/steady-load.js';
import * as fixture from './control-channel-fixture.js';
import { startFleet, type Fleet } from './failover-fleet.js';

describe('a replica dies under load: Envoys move to the other one, and an edit reaches them through it', () => {
  let fleet: Fleet;
  before(async () => (fleet = await startFleet('failover', ['edge-1', 'edge-2'])));
  after(() => fleet?.stop());

  it('serves on, without a failed request, and applies the edit via the survivor', async (t) => {
    const loads: RunningLoad[] = [];
    for (const protocol of ['h1', 'h2'] as const) {
      loads.push(steadyLoad(fleet.target(HOSTS.z, `/public-${protocol}`), protocol));
      loads.push(steadyLoad(fleet.target(HOSTS.x, `/identity-${protocol}`), protocol));
    }
    let afterEdit: number;
    try {
      afterEdit = await failOverAndEdit(fleet);
    } finally {
      // Stopped whatever happened: a load left running would keep the test process alive.
      await Promise.all(loads.map((l) => l.stop()));
    }
    const [h1Public, h1Identity, h2Public, h2Identity] = loads.map((l) => l.tally);
    t.diagnostic(`answered: public ${h1Public!.ok} + ${h2Public!.ok}, identity ${h1Identity!.ok} + ${h2Identity!.ok}`);
    const after = fleet.upstream.seen.slice(afterEdit);
    const edited = after.filter((s) => s.url.startsWith('/public-'));
    assert.ok(edited.length > 0, 'public requests after the edit');
    for (const s of edited) assert.equal(s.headers['x-edit'], '2', 'the edit reached the Envoy that served it');
    const identity = after.filter((s) => s.url.startsWith('/identity-'));
    assert.ok(identity.length > 0, 'identity requests after the edit');
    for (const s of identity) assert.match(String(s.headers['x-pomerium-jwt-assertion']), /^ey/, 'a signed JWT');
    for (const tally of loads.map((l) => l.tally)) assert.ok(tally.ok > 20, `progress: ${tally.ok} answered`);
    // Not one failure: a Check the dead replica could not answer is retried by Envoy, and one whose answer it cut
    // off is asked again by the second ext_authz filter (ext-authz-cut-answer.test.ts makes that happen every time).
    assert.deepEqual([...h1Public!.failed, ...h2Public!.failed], []);
    assert.deepEqual([...h1Identity!.failed, ...h2Identity!.failed], []);
  });
});

describe('a replica dies while no Check is in flight: the next Checks go to the other one', () => {
  let fleet: Fleet;
  before(async () => (fleet = await startFleet('retries', ['edge-1'])));
  after(() => fleet?.stop());

  it('answers every request right after the kill: a Check the dead replica refuses goes to the other', async () => {
    const dead = await fleet.replicaOf('edge-1');
    dead.child.kill('SIGKILL');
    await new Promise((r) => dead.child.once('exit', r));
    // Envoy has not noticed yet: round robin sends every other Check to the dead address until it is ejected.
    const passedOn = await fleet.passedOn();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await httpsGet({
        port: fleet.httpsPort,
        servername: HOSTS.x,
        path: `/after-kill-${i}`,
        ca: fleet.pki.caA,
        ...fleet.pki.clientA,
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, Array<number>(12).fill(200));
    // Each Check the dead replica refused was retried on the other by the first ext_authz filter itself: none had to
    // be asked again by the second (that one is for answers cut off mid-way).
    assert.equal((await fleet.passedOn()) - passedOn, 0, 'Checks the first ext_authz filter could not place');
  });
});

/** Kills the replica edge-1 streams from, then edits the config; resolves with upstream.seen's length after it. */
async function failOverAndEdit(fleet: Fleet): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  const dead = await fleet.replicaOf('edge-1');
  const survivor = fleet.replicas.find((r) => r !== dead)!;
  dead.child.kill('SIGKILL');
  await fleet.waitForNodes('both Envoys moved to the survivor', (seen) => fleet.nodes.every((n) => seen.includes(n)));
  await new Promise((r) => setTimeout(r, 1000));
  const before = (await fixture.fetchStatus(survivor.adminUrl)).configVersion;
  fleet.writeConfig('2');
  await fixture.waitForStatus(
    survivor.adminUrl,
    'the edit ACKed by both Envoys',
    (s) => s.configVersion !== before && s.synced && fleet.nodes.every((n) => s.nodes.some((x) => x.node === n)),
    30_000,
  );
  const seen = fleet.upstream.seen.length;
  await new Promise((r) => setTimeout(r, 1000));
  return seen;
}
