// AdsStreamState: what one state-of-the-world xDS stream sends, for each request and snapshot.
// Here: resources named before they exist, changes, push order, inSync, unique nonces.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AdsStreamState } from '../../../control-plane/src/xds/index.js';
import {
  CDS,
  LDS,
  RDS,
  SDS,
  SUBSCRIPTIONS,
  ackOf,
  baseResources,
  cluster,
  decodedNames,
  listener,
  nackOf,
  namesFor,
  routes,
  secret,
  settledStream,
  snapshotOf,
  withChange,
  type Response,
} from './fixtures.js';
import { subscribeWildcards, only } from './stream-state-helpers.js';

describe('named resources requested before they exist', () => {
  test('a route configuration asked for early is sent once a snapshot contains it', () => {
    const without = snapshotOf(withChange(baseResources(), { routeConfigurations: [routes('r1')] }));
    const stream = new AdsStreamState();
    const empty = only(stream.onRequest({ type_url: RDS, resource_names: ['later'] }, without).responses);
    assert.deepEqual(empty.resources, []);
    stream.onRequest(ackOf(empty, ['later']), without);

    // Unrelated snapshots in between must not make the stream forget the name.
    assert.deepEqual(
      stream.onSnapshot(snapshotOf(withChange(baseResources(), { routeConfigurations: [routes('r1', 'x.example')] }))),
      [],
    );

    const withIt = snapshotOf(
      withChange(baseResources(), { routeConfigurations: [routes('later', 'late.example'), routes('r1')] }),
    );
    const r = only(stream.onSnapshot(withIt));
    assert.equal(r.type_url, RDS);
    assert.deepEqual(decodedNames(r), ['later']);
  });

  test('a secret asked for before the first snapshot is sent with it', () => {
    const stream = new AdsStreamState();
    stream.onRequest({ type_url: SDS, resource_names: ['s2'] }, undefined);
    assert.deepEqual(decodedNames(only(stream.onSnapshot(snapshotOf(baseResources())))), ['s2']);
  });
});

describe('changes reach only the streams and types they touch', () => {
  test('a change to a route configuration the stream did not request produces nothing', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    subscribeWildcards(stream, snapshot);
    const r = only(stream.onRequest({ type_url: RDS, resource_names: ['r1'] }, snapshot).responses);
    stream.onRequest(ackOf(r, ['r1']), snapshot);

    const r2Changed = snapshotOf(
      withChange(baseResources(), {
        routeConfigurations: [routes('r1', 'a.example'), routes('r2', 'elsewhere.example')],
      }),
    );
    assert.notEqual(r2Changed.types.get(RDS)!.version, snapshot.types.get(RDS)!.version);
    assert.deepEqual(stream.onSnapshot(r2Changed), []);
    // Not ready all the same: the snapshot holds r2 (and secrets), which this stream never asked for.
    assert.equal(stream.inSync(r2Changed), false);
  });

  test('a change to a requested route configuration is sent', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    stream.onRequest(
      ackOf(only(stream.onRequest({ type_url: RDS, resource_names: ['r1'] }, snapshot).responses), ['r1']),
      snapshot,
    );
    const r1Changed = snapshotOf(
      withChange(baseResources(), { routeConfigurations: [routes('r1', 'new.example'), routes('r2', 'b.example')] }),
    );
    assert.deepEqual(decodedNames(only(stream.onSnapshot(r1Changed))), ['r1']);
  });

  for (const { label, change, typeUrl } of [
    {
      label: 'a route-only change',
      change: { routeConfigurations: [routes('r1', 'new.example'), routes('r2', 'b.example')] },
      typeUrl: RDS,
    },
    {
      label: 'a cluster-only change',
      change: { clusters: [cluster('c1'), cluster('c2'), cluster('c3')] },
      typeUrl: CDS,
    },
    {
      label: 'a secret-only change',
      change: { secrets: [secret('s1', 'CA-1'), secret('s2', 'CA-2-rotated')] },
      typeUrl: SDS,
    },
    { label: 'a listener-only change', change: { listeners: [listener('https', 'edge')] }, typeUrl: LDS },
  ]) {
    test(`${label} resends only that type`, () => {
      const { stream } = settledStream(snapshotOf(baseResources()));
      const r = only(stream.onSnapshot(snapshotOf(withChange(baseResources(), change))));
      assert.equal(r.type_url, typeUrl);
    });
  }
});

test('onSnapshot pushes in make-before-break order: clusters, secrets, listeners, route configurations', () => {
  const stream = new AdsStreamState();
  // Subscribe in the reverse order, before any snapshot, so the order can only come from onSnapshot.
  for (const { typeUrl, names } of [...SUBSCRIPTIONS].reverse())
    stream.onRequest({ type_url: typeUrl, resource_names: names }, undefined);
  const initial = stream.onSnapshot(snapshotOf(baseResources()));
  assert.deepEqual(
    initial.map((r) => r.type_url),
    [CDS, SDS, LDS, RDS],
  );

  // And again for a change that touches every type on a settled stream.
  const { stream: settled } = settledStream(snapshotOf(baseResources()));
  const everything = snapshotOf({
    clusters: [cluster('c1', 3)],
    listeners: [listener('https', 'edge')],
    routeConfigurations: [routes('r1', 'z.example')],
    secrets: [secret('s1', 'CA-new')],
  });
  assert.deepEqual(
    settled.onSnapshot(everything).map((r) => r.type_url),
    [CDS, SDS, LDS, RDS],
  );
});

describe('inSync', () => {
  test('is false until every subscribed type has ACKed the current version', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    assert.equal(stream.inSync(snapshot), false, 'a stream that asked for nothing is not in sync');

    const pending: Response[] = [];
    for (const { typeUrl, names } of SUBSCRIPTIONS)
      pending.push(only(stream.onRequest({ type_url: typeUrl, resource_names: names }, snapshot).responses));
    assert.equal(stream.inSync(snapshot), false, 'sent is not acked');

    for (const [i, r] of pending.entries()) {
      assert.equal(stream.inSync(snapshot), false, `in sync with ${i} of ${pending.length} types acked`);
      stream.onRequest(ackOf(r, namesFor(r.type_url)), snapshot);
    }
    assert.equal(stream.inSync(snapshot), true);
  });

  test('is false while Envoy has ACKed clusters but not yet asked for listeners', () => {
    // Envoy asks for LDS only once its clusters have warmed, after the CDS ACK: /synced must not pass in between.
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    stream.onRequest(
      ackOf(only(stream.onRequest({ type_url: CDS, resource_names: [] }, snapshot).responses)),
      snapshot,
    );
    assert.equal(stream.inSync(snapshot), false);
    stream.onRequest(
      ackOf(only(stream.onRequest({ type_url: LDS, resource_names: [] }, snapshot).responses)),
      snapshot,
    );
    // The listener names route configurations and secrets that Envoy has not asked for yet.
    assert.equal(stream.inSync(snapshot), false);
    for (const typeUrl of [RDS, SDS]) {
      const names = namesFor(typeUrl);
      stream.onRequest(
        ackOf(only(stream.onRequest({ type_url: typeUrl, resource_names: names }, snapshot).responses), names),
        snapshot,
      );
    }
    assert.equal(stream.inSync(snapshot), true);
  });

  test('turns false with a new snapshot and back to true on its ACK', () => {
    const { stream } = settledStream(snapshotOf(baseResources()));
    const next = snapshotOf(withChange(baseResources(), { secrets: [secret('s1', 'CA-1b'), secret('s2', 'CA-2')] }));
    const r = only(stream.onSnapshot(next));
    assert.equal(stream.inSync(next), false);
    stream.onRequest(ackOf(r, namesFor(SDS)), next);
    assert.equal(stream.inSync(next), true);
  });

  test('stays false after a NACK', () => {
    const good = snapshotOf(baseResources());
    const { stream, last } = settledStream(good);
    const bad = snapshotOf(withChange(baseResources(), { listeners: [listener('https', 'bad')] }));
    stream.onRequest(nackOf(only(stream.onSnapshot(bad)), last.get(LDS)!.version_info), bad);
    assert.equal(stream.inSync(bad), false);
    assert.equal(stream.inSync(good), true, 'Envoy still runs the good snapshot');
  });

  test('is false while a grown named subscription is unanswered', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    subscribeWildcards(stream, snapshot);
    const r1 = only(stream.onRequest({ type_url: RDS, resource_names: ['r1'] }, snapshot).responses);
    const both = only(stream.onRequest(ackOf(r1, ['r1', 'r2']), snapshot).responses);
    assert.equal(stream.inSync(snapshot), false);
    stream.onRequest(ackOf(both, ['r1', 'r2']), snapshot);
    const sds = namesFor(SDS);
    stream.onRequest(
      ackOf(only(stream.onRequest({ type_url: SDS, resource_names: sds }, snapshot).responses), sds),
      snapshot,
    );
    assert.equal(stream.inSync(snapshot), true);
  });
});

test('nonces are unique per response', () => {
  const stream = new AdsStreamState();
  const seen: Response[] = [];
  const base = baseResources();
  let snapshot = snapshotOf(base);
  for (const { typeUrl, names } of SUBSCRIPTIONS)
    seen.push(...stream.onRequest({ type_url: typeUrl, resource_names: names }, snapshot).responses);
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
    'an empty nonce would read as a first request',
  );
  assert.equal(new Set(nonces).size, nonces.length);
});
