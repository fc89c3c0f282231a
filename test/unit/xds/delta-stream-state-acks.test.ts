// DeltaStreamState: what one incremental (delta) xDS stream sends, for each request and snapshot.
// Here: ACK, NACK and stale nonces.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaStreamState } from '../../../control-plane/src/xds/index.js';
import {
  CDS,
  LDS,
  RDS,
  baseResources,
  cluster,
  deltaAckOf,
  deltaNackOf,
  deltaNames,
  routes,
  settledDeltaStream,
  snapshotOf,
  withChange,
} from './fixtures.js';
import { only, subscribeAndAck, hashOf } from './delta-stream-helpers.js';

describe('ACK', () => {
  test('records what Envoy holds and the system version, and sends nothing when nothing changed', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    const r = only(stream.onRequest({ type_url: RDS, resource_names_subscribe: ['r1'] }, snapshot).responses);
    assert.equal(stream.types.get(RDS)!.ackedVersions.size, 0, 'sent is not acked');
    const ack = stream.onRequest(deltaAckOf(r), snapshot);
    assert.equal(ack.outcome, 'ack');
    assert.deepEqual(ack.responses, []);
    const state = stream.types.get(RDS)!;
    assert.deepEqual([...state.ackedVersions], [['r1', hashOf(snapshot, RDS, 'r1')]]);
    assert.equal(state.acked, r.system_version_info);
    assert.deepEqual(state.pending, []);
    assert.equal(state.nack, undefined);
  });

  test('an ACK that also subscribes to more names is answered with just the new ones', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    const first = only(stream.onRequest({ type_url: RDS, resource_names_subscribe: ['r1'] }, snapshot).responses);
    const { outcome, responses } = stream.onRequest(deltaAckOf(first, { subscribe: ['r2'] }), snapshot);
    assert.equal(outcome, 'ack');
    assert.deepEqual(deltaNames(only(responses)), ['r2']);
  });

  test('several responses in flight are each settled by their own ACK', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const v2 = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1'), cluster('c2'), cluster('c3')] }));
    const first = only(stream.onSnapshot(v2));
    const v3 = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 4), cluster('c2'), cluster('c3')] }));
    const second = only(stream.onSnapshot(v3));
    assert.deepEqual(deltaNames(first), ['c3']);
    assert.deepEqual(deltaNames(second), ['c1']);

    assert.equal(stream.onRequest(deltaAckOf(first), v3).outcome, 'ack');
    assert.equal(stream.types.get(CDS)!.ackedVersions.get('c3'), hashOf(v2, CDS, 'c3'));
    assert.equal(stream.inSync(v3), false);
    assert.equal(stream.onRequest(deltaAckOf(second), v3).outcome, 'ack');
    assert.equal(stream.inSync(v3), true);
  });

  test('an ACK arriving after Envoy unsubscribed from a name does not bring the name back', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    const r = only(stream.onRequest({ type_url: RDS, resource_names_subscribe: ['r1', 'r2'] }, snapshot).responses);
    stream.onRequest({ type_url: RDS, resource_names_unsubscribe: ['r2'] }, snapshot);
    stream.onRequest(deltaAckOf(r), snapshot);
    assert.deepEqual([...stream.types.get(RDS)!.ackedVersions.keys()], ['r1']);
  });
});

describe('NACK', () => {
  test('records the error, keeps what Envoy held, and does not resend the rejected resources', () => {
    const good = snapshotOf(baseResources());
    const { stream, last } = settledDeltaStream(good);
    const bad = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2')] }));
    const pushed = only(stream.onSnapshot(bad));
    assert.deepEqual(deltaNames(pushed), ['c1']);

    const now = new Date('2024-05-01T12:00:00Z');
    const nack = stream.onRequest(deltaNackOf(pushed, 'bad cluster'), bad, now);
    assert.equal(nack.outcome, 'nack');
    // The loop go-control-plane falls into: answering a NACK with the same content again.
    assert.deepEqual(nack.responses, []);
    const state = stream.types.get(CDS)!;
    assert.equal(state.acked, last.get(CDS)!.system_version_info);
    assert.equal(state.ackedVersions.get('c1'), hashOf(good, CDS, 'c1'));
    assert.deepEqual(state.nack, {
      version: pushed.system_version_info,
      message: 'bad cluster',
      at: now.toISOString(),
    });

    // Another push of the same content (e.g. a reload with no effect) stays quiet too.
    assert.deepEqual(stream.onSnapshot(bad), []);
    assert.deepEqual(
      stream.onSnapshot(snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2')] }))),
      [],
    );
  });

  test('a later, different version is sent, and its ACK clears the error', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const bad = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2')] }));
    const rejected = only(stream.onSnapshot(bad));
    stream.onRequest(deltaNackOf(rejected), bad);

    const fixed = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 5), cluster('c2')] }));
    const retry = only(stream.onSnapshot(fixed));
    assert.deepEqual(deltaNames(retry), ['c1']);
    assert.notEqual(retry.resources[0]!.version, rejected.resources[0]!.version);
    assert.notEqual(retry.nonce, rejected.nonce);

    assert.equal(stream.onRequest(deltaAckOf(retry), fixed).outcome, 'ack');
    assert.equal(stream.types.get(CDS)!.acked, retry.system_version_info);
    assert.equal(stream.types.get(CDS)!.nack, undefined);
    assert.equal(stream.inSync(fixed), true);
  });

  test('an unrelated change after a NACK sends only that change, and the error stays', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const bad = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2')] }));
    stream.onRequest(deltaNackOf(only(stream.onSnapshot(bad))), bad);
    const more = snapshotOf(
      withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2'), cluster('c3')] }),
    );
    const r = only(stream.onSnapshot(more));
    assert.deepEqual(deltaNames(r), ['c3']);
    stream.onRequest(deltaAckOf(r), more);
    assert.notEqual(stream.types.get(CDS)!.nack, undefined, 'c1 is still rejected');
    assert.equal(stream.inSync(more), false);
  });

  test('going back to the last good snapshot after a NACK is sent', () => {
    const good = snapshotOf(baseResources());
    const { stream } = settledDeltaStream(good);
    const bad = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2')] }));
    stream.onRequest(deltaNackOf(only(stream.onSnapshot(bad))), bad);
    // Envoy still runs the good version, but what it was last sent is the bad one; the revert must reach it.
    const revert = only(stream.onSnapshot(good));
    assert.deepEqual(deltaNames(revert), ['c1']);
    assert.equal(revert.resources[0]!.version, hashOf(good, CDS, 'c1'));
    stream.onRequest(deltaAckOf(revert), good);
    assert.equal(stream.types.get(CDS)!.nack, undefined);
  });

  test('a NACK of one response in flight is recorded even when a later one is ACKed', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const withC3 = snapshotOf(
      withChange(baseResources(), { clusters: [cluster('c1'), cluster('c2'), cluster('c3', 99)] }),
    );
    const first = only(stream.onSnapshot(withC3));
    const alsoC1 = snapshotOf(
      withChange(baseResources(), { clusters: [cluster('c1', 3), cluster('c2'), cluster('c3', 99)] }),
    );
    const second = only(stream.onSnapshot(alsoC1));

    assert.equal(stream.onRequest(deltaNackOf(first, 'bad c3'), alsoC1).outcome, 'nack');
    assert.equal(stream.onRequest(deltaAckOf(second), alsoC1).outcome, 'ack');
    const state = stream.types.get(CDS)!;
    assert.equal(state.ackedVersions.has('c3'), false, 'Envoy rejected c3');
    assert.equal(state.ackedVersions.get('c1'), hashOf(alsoC1, CDS, 'c1'));
    assert.equal(state.nack?.message, 'bad c3');
    assert.equal(stream.inSync(alsoC1), false);
  });
});

describe('stale nonces', () => {
  test('a nonce already answered, made up, or of another type is ignored for ACK/NACK bookkeeping', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    const cds = only(stream.onRequest({ type_url: CDS }, snapshot).responses);
    assert.equal(stream.onRequest(deltaAckOf(cds), snapshot).outcome, 'ack');
    const ackedBefore = new Map(stream.types.get(CDS)!.ackedVersions);

    // Answered twice: the second answer (here a NACK) is stale.
    const again = stream.onRequest(deltaNackOf(cds), snapshot);
    assert.equal(again.outcome, 'stale');
    assert.deepEqual(again.responses, []);
    assert.equal(stream.types.get(CDS)!.nack, undefined);
    assert.equal(stream.onRequest({ type_url: CDS, response_nonce: 'made-up' }, snapshot).outcome, 'stale');
    assert.deepEqual(stream.types.get(CDS)!.ackedVersions, ackedBefore);

    // The nonce of a CDS response says nothing about LDS.
    const lds = only(stream.onRequest({ type_url: LDS }, snapshot).responses);
    const cross = stream.onRequest({ type_url: LDS, response_nonce: cds.nonce }, snapshot);
    assert.equal(cross.outcome, 'stale');
    assert.deepEqual(
      stream.types.get(LDS)!.pending.map((p) => p.nonce),
      [lds.nonce],
    );
    assert.equal(stream.types.get(LDS)!.acked, undefined);
  });

  test('subscription changes in a request with a stale nonce still apply', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    const first = subscribeAndAck(stream, RDS, ['r1'], snapshot);
    // A stale nonce (already answered) carrying a subscription delta: the delta must not be dropped.
    const sub = stream.onRequest(deltaAckOf(first, { subscribe: ['r2'] }), snapshot);
    assert.equal(sub.outcome, 'stale');
    assert.deepEqual(deltaNames(only(sub.responses)), ['r2']);

    const unsub = stream.onRequest(
      { type_url: RDS, response_nonce: 'made-up', resource_names_unsubscribe: ['r1'] },
      snapshot,
    );
    assert.equal(unsub.outcome, 'stale');
    assert.deepEqual([...stream.types.get(RDS)!.names], ['r2']);
    const r1Changed = snapshotOf(
      withChange(baseResources(), { routeConfigurations: [routes('r1', 'new.example'), routes('r2', 'b.example')] }),
    );
    assert.deepEqual(stream.onSnapshot(r1Changed), []);
  });

  test('a first request with a nonce (from an earlier stream) still subscribes', () => {
    const snapshot = snapshotOf(baseResources());
    const { outcome, responses } = new DeltaStreamState().onRequest({ type_url: CDS, response_nonce: '7' }, snapshot);
    assert.equal(outcome, 'stale');
    assert.deepEqual(deltaNames(only(responses)), ['c1', 'c2']);
  });
});
