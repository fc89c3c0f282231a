// DeltaStreamState: what one incremental (delta) xDS stream sends, for each request and snapshot.
// Here: push order, inSync, and unique nonces.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaStreamState } from '../../../control-plane/src/xds/index.js';
import {
  CDS,
  LDS,
  RDS,
  SDS,
  SUBSCRIPTIONS,
  baseResources,
  cluster,
  deltaAckOf,
  deltaNackOf,
  listener,
  namesFor,
  routes,
  secret,
  settledDeltaStream,
  snapshotOf,
  withChange,
  type DeltaResponse,
} from './fixtures.js';
import { only, subscribeAndAck } from './delta-stream-helpers.js';

test('onSnapshot pushes in make-before-break order: clusters, secrets, listeners, route configurations', () => {
  const stream = new DeltaStreamState();
  // Subscribe in the reverse order, before any snapshot, so the order can only come from onSnapshot.
  for (const { typeUrl, names } of [...SUBSCRIPTIONS].reverse())
    stream.onRequest({ type_url: typeUrl, resource_names_subscribe: names }, undefined);
  assert.deepEqual(
    stream.onSnapshot(snapshotOf(baseResources())).map((r) => r.type_url),
    [CDS, SDS, LDS, RDS],
  );

  // And again for a change that touches every type on a settled stream.
  const { stream: settled } = settledDeltaStream(snapshotOf(baseResources()));
  const everything = snapshotOf({
    clusters: [cluster('c1', 3)],
    listeners: [listener('https', 'edge')],
    routeConfigurations: [routes('r1', 'z.example')],
    secrets: [secret('s1', 'CA-new')],
  });
  const pushed = settled.onSnapshot(everything);
  assert.deepEqual(
    pushed.map((r) => r.type_url),
    [CDS, SDS, LDS, RDS],
  );
  assert.deepEqual(
    pushed.map((r) => r.removed_resources),
    [['c2'], ['s2'], [], ['r2']],
  );
});

describe('inSync', () => {
  test('is false until every subscribed type has ACKed the current resources', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    assert.equal(stream.inSync(snapshot), false, 'a stream that asked for nothing is not in sync');

    const pending: DeltaResponse[] = [];
    for (const { typeUrl, names } of SUBSCRIPTIONS)
      pending.push(only(stream.onRequest({ type_url: typeUrl, resource_names_subscribe: names }, snapshot).responses));
    assert.equal(stream.inSync(snapshot), false, 'sent is not acked');

    for (const [i, r] of pending.entries()) {
      assert.equal(stream.inSync(snapshot), false, `in sync with ${i} of ${pending.length} types acked`);
      stream.onRequest(deltaAckOf(r), snapshot);
    }
    assert.equal(stream.inSync(snapshot), true);
  });

  test('is false while Envoy has ACKed clusters but not yet asked for listeners, routes and secrets', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, CDS, [], snapshot);
    assert.equal(stream.inSync(snapshot), false);
    subscribeAndAck(stream, LDS, [], snapshot);
    assert.equal(stream.inSync(snapshot), false);
    subscribeAndAck(stream, RDS, ['r1'], snapshot);
    subscribeAndAck(stream, SDS, namesFor(SDS), snapshot);
    assert.equal(stream.inSync(snapshot), false, 'r2 is not subscribed');
    only(stream.onRequest({ type_url: RDS, resource_names_subscribe: ['r2'] }, snapshot).responses);
    assert.equal(stream.inSync(snapshot), false, 'r2 is sent but not acked');
    stream.onRequest({ type_url: RDS, response_nonce: stream.types.get(RDS)!.pending[0]!.nonce }, snapshot);
    assert.equal(stream.inSync(snapshot), true);
  });

  test('turns false with a new snapshot and back to true on its ACK', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const next = snapshotOf(withChange(baseResources(), { secrets: [secret('s1', 'CA-1b'), secret('s2', 'CA-2')] }));
    const r = only(stream.onSnapshot(next));
    assert.equal(stream.inSync(next), false);
    stream.onRequest(deltaAckOf(r), next);
    assert.equal(stream.inSync(next), true);
  });

  test('is false while a response is in flight, even one that goes back to what Envoy holds', () => {
    const a = snapshotOf(baseResources());
    const { stream } = settledDeltaStream(a);
    const b = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 8), cluster('c2')] }));
    const toB = only(stream.onSnapshot(b));
    assert.equal(stream.inSync(a), false, 'Envoy is about to apply b');
    // A quick revert: Envoy will apply b, then a again; until both are answered nothing is settled.
    const backToA = only(stream.onSnapshot(a));
    assert.equal(stream.inSync(a), false);
    stream.onRequest(deltaAckOf(toB), a);
    assert.equal(stream.inSync(a), false);
    stream.onRequest(deltaAckOf(backToA), a);
    assert.equal(stream.inSync(a), true);
  });

  test('is false until a removal is ACKed: Envoy still holds the resource', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const fewer = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1')] }));
    const r = only(stream.onSnapshot(fewer));
    assert.equal(stream.inSync(fewer), false);
    stream.onRequest(deltaAckOf(r), fewer);
    assert.equal(stream.inSync(fewer), true);
  });

  test('stays false after a NACK, while Envoy is in sync with the snapshot it still runs', () => {
    const good = snapshotOf(baseResources());
    const { stream } = settledDeltaStream(good);
    const bad = snapshotOf(withChange(baseResources(), { listeners: [listener('https', 'bad')] }));
    stream.onRequest(deltaNackOf(only(stream.onSnapshot(bad))), bad);
    assert.equal(stream.inSync(bad), false);
    assert.equal(stream.inSync(good), true, 'Envoy still runs the good snapshot');
  });
});

test('nonces are unique per response', () => {
  const stream = new DeltaStreamState();
  const seen: DeltaResponse[] = [];
  let snapshot = snapshotOf(baseResources());
  for (const { typeUrl, names } of SUBSCRIPTIONS)
    seen.push(...stream.onRequest({ type_url: typeUrl, resource_names_subscribe: names }, snapshot).responses);
  for (let i = 2; i < 6; i++) {
    snapshot = snapshotOf({
      clusters: [cluster('c1', i)],
      listeners: [listener('https', `edge-${i}`)],
      routeConfigurations: [routes('r1', `${i}.example`), routes('r2')],
      secrets: [secret('s1', `CA-${i}`), secret('s2')],
    });
    const pushed = stream.onSnapshot(snapshot);
    assert.equal(pushed.length, 4);
    seen.push(...pushed);
  }
  const nonces = seen.map((r) => r.nonce);
  assert.ok(
    nonces.every((n) => n !== ''),
    'an empty nonce would read as a spontaneous request',
  );
  assert.equal(new Set(nonces).size, nonces.length);
});
