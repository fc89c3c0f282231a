// Issue 13: a replica killed while its ext_authz answer is under way. Envoy cannot retry a Check whose answer has
// started, so the edge runs a second ext_authz filter that asks again when the first got no answer. A stand-in
// replica (test/support/half-answer-replica.ts) dies at exactly that moment, on its first Check, every time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { httpsGet } from '../support/https-client.js';
import { startHalfAnswerReplica, type HalfAnswerReplica } from '../support/half-answer-replica.js';
import { HOSTS } from '../support/pki-fixture.js';
import { startFleet, type Fleet } from './failover-fleet.js';

async function fleetWithStandIn(name: string): Promise<{ fleet: Fleet; standIn: HalfAnswerReplica }> {
  let standIn: HalfAnswerReplica | undefined;
  const fleet = await startFleet(name, ['edge-1'], {
    replicas: 1,
    standIn: async (channel) => (standIn = await startHalfAnswerReplica(channel)).port,
  });
  return { fleet, standIn: standIn! };
}

/** A request with a certificate of its own: Envoy has kept no allow for it, so it is a Check. */
async function identityRequest(fleet: Fleet, path: string) {
  const c = await issueClientCertificate(fleet.pki.caAuthority, { commonName: `cut${path.replace(/\W/g, '-')}` });
  return httpsGet({
    port: fleet.httpsPort,
    servername: HOSTS.x,
    path,
    ca: fleet.pki.caA,
    cert: c.certPem,
    key: c.keyPem,
  });
}

describe('a Check cut off mid-answer is asked again of another replica', () => {
  let fleet: Fleet;
  let standIn: HalfAnswerReplica;
  before(async () => ({ fleet, standIn } = await fleetWithStandIn('cut-answer')));
  after(async () => {
    await standIn?.close();
    await fleet?.stop();
  });

  it('answers the request whose Check was cut off, with the identity the live replica signs', async () => {
    const answered: Array<[string, number]> = [];
    const before = await fleet.passedOn();
    // Envoy spreads Checks over both endpoints (round robin): the stand-in gets one within a few requests.
    for (let i = 0; i < 40 && standIn.cut === 0; i++) {
      const path = `/cut-${i}`;
      answered.push([path, (await identityRequest(fleet, path)).status]);
    }
    assert.equal(standIn.cut, 1, 'the stand-in was asked a Check and cut its answer off');
    assert.equal((await fleet.passedOn()) - before, 1, 'the first filter got no answer once, and passed it on');
    for (const [path, status] of answered) {
      assert.equal(status, 200, `${path}: ${status}`);
      const seen = fleet.upstream.seen.filter((s) => s.url === path);
      assert.equal(seen.length, 1, `${path} reached the upstream once`);
      assert.match(String(seen[0]!.headers['x-pomerium-jwt-assertion']), /^ey/, `${path}: a signed JWT`);
    }
  });
});

describe('a Check cut off mid-answer with no replica left to ask', () => {
  let fleet: Fleet;
  let standIn: HalfAnswerReplica;
  before(async () => ({ fleet, standIn } = await fleetWithStandIn('cut-answer-alone')));
  after(async () => {
    await standIn?.close();
    await fleet?.stop();
  });

  it('fails closed: 503, and the request never reaches the upstream', async () => {
    const live = fleet.replicas[0]!;
    live.child.kill('SIGKILL');
    await new Promise((r) => live.child.once('exit', r));
    const before = await fleet.passedOn();
    const res = await identityRequest(fleet, '/alone');
    assert.equal(standIn.cut, 1, 'the stand-in was asked a Check and cut its answer off');
    assert.equal((await fleet.passedOn()) - before, 1, 'the first filter got no answer, and passed it on');
    assert.equal(res.status, 503);
    assert.deepEqual(
      fleet.upstream.seen.filter((s) => s.url === '/alone'),
      [],
      'a Check the first filter got no answer to is not an allow',
    );
  });
});
