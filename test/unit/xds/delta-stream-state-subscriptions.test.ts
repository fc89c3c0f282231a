// DeltaStreamState: what one incremental (delta) xDS stream sends, for each request and snapshot.
// Here: subscribing and unsubscribing, and reconnecting with initial_resource_versions.
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
  deltaNames,
  heldVersions,
  routes,
  snapshotOf,
  withChange,
  type DeltaResponse,
} from './fixtures.js';
import { only, subscribeAndAck, hashOf } from './delta-stream-helpers.js';

describe('subscribing and unsubscribing', () => {
  test('a name subscribed later gets only that resource', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, RDS, ['r1'], snapshot);
    const { outcome, responses } = stream.onRequest({ type_url: RDS, resource_names_subscribe: ['r2'] }, snapshot);
    assert.equal(outcome, 'subscribe');
    assert.deepEqual(deltaNames(only(responses)), ['r2']);
    assert.deepEqual([...stream.types.get(RDS)!.names].sort(), ['r1', 'r2']);
  });

  test('subscribing again to a name Envoy holds resends it (Envoy may have dropped it)', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, RDS, ['r1', 'r2'], snapshot);
    const again = only(stream.onRequest({ type_url: RDS, resource_names_subscribe: ['r1'] }, snapshot).responses);
    assert.deepEqual(deltaNames(again), ['r1']);
  });

  test('a name asked for before it exists sends nothing, then is sent once it exists, and removed when it goes', () => {
    const without = snapshotOf(withChange(baseResources(), { routeConfigurations: [routes('r1')] }));
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, RDS, ['r1'], without);
    assert.deepEqual(stream.onRequest({ type_url: RDS, resource_names_subscribe: ['later'] }, without).responses, []);

    // Unrelated snapshots in between must not make the stream forget the name.
    assert.deepEqual(
      stream.onSnapshot(
        snapshotOf(withChange(baseResources(), { routeConfigurations: [routes('r1'), routes('other')] })),
      ),
      [],
    );

    const withIt = snapshotOf(
      withChange(baseResources(), { routeConfigurations: [routes('later', 'late.example'), routes('r1')] }),
    );
    const r = only(stream.onSnapshot(withIt));
    assert.deepEqual(deltaNames(r), ['later']);
    assert.deepEqual(r.removed_resources, []);
    stream.onRequest(deltaAckOf(r), withIt);

    const gone = only(stream.onSnapshot(without));
    assert.deepEqual(gone.resources, []);
    assert.deepEqual(gone.removed_resources, ['later']);
  });

  test('a secret asked for before the first snapshot is sent with it', () => {
    const stream = new DeltaStreamState();
    stream.onRequest({ type_url: SDS, resource_names_subscribe: ['s2'] }, undefined);
    assert.deepEqual(deltaNames(only(stream.onSnapshot(snapshotOf(baseResources())))), ['s2']);
  });

  test('unsubscribing stops updates for that name, sends nothing, and keeps the others flowing', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, RDS, ['r1', 'r2'], snapshot);
    assert.deepEqual(stream.onRequest({ type_url: RDS, resource_names_unsubscribe: ['r2'] }, snapshot).responses, []);
    assert.deepEqual([...stream.types.get(RDS)!.names], ['r1']);
    assert.equal(stream.types.get(RDS)!.ackedVersions.has('r2'), false);

    const r2Changed = snapshotOf(
      withChange(baseResources(), {
        routeConfigurations: [routes('r1', 'a.example'), routes('r2', 'changed.example')],
      }),
    );
    assert.deepEqual(stream.onSnapshot(r2Changed), []);
    // Removing it is not news to Envoy either.
    assert.deepEqual(
      stream.onSnapshot(snapshotOf(withChange(baseResources(), { routeConfigurations: [routes('r1', 'a.example')] }))),
      [],
    );
    const bothChanged = snapshotOf(
      withChange(baseResources(), {
        routeConfigurations: [routes('r1', 'new.example'), routes('r2', 'again.example')],
      }),
    );
    assert.deepEqual(deltaNames(only(stream.onSnapshot(bothChanged))), ['r1']);
  });

  test('unsubscribing a name never subscribed is ignored', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, RDS, ['r1'], snapshot);
    assert.deepEqual(stream.onRequest({ type_url: RDS, resource_names_unsubscribe: ['nope'] }, snapshot).responses, []);
    assert.deepEqual([...stream.types.get(RDS)!.names], ['r1']);
  });

  test('unsubscribing a name also covered by the wildcard answers with the resource, or its removal', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, CDS, [], snapshot);
    assert.deepEqual(
      stream
        .onRequest({ type_url: CDS, resource_names_subscribe: ['c1', 'ghost'] }, snapshot)
        .responses.map(deltaNames),
      [['c1']],
    );
    const r = only(
      stream.onRequest({ type_url: CDS, resource_names_unsubscribe: ['c1', 'ghost'] }, snapshot).responses,
    );
    assert.deepEqual(deltaNames(r), ['c1']);
    assert.deepEqual(r.removed_resources, ['ghost']);
    assert.equal(stream.types.get(CDS)!.wildcard, true);
  });

  test("unsubscribing '*' ends the wildcard subscription", () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, CDS, [], snapshot);
    assert.deepEqual(stream.onRequest({ type_url: CDS, resource_names_unsubscribe: ['*'] }, snapshot).responses, []);
    assert.equal(stream.types.get(CDS)!.wildcard, false);
    assert.deepEqual(
      stream.onSnapshot(snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 9), cluster('c3')] }))),
      [],
    );
  });

  test('an empty request after the first does not turn a named cluster subscription into a wildcard', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, CDS, ['c1'], snapshot);
    assert.deepEqual(stream.onRequest({ type_url: CDS }, snapshot).responses, []);
    assert.equal(stream.types.get(CDS)!.wildcard, false);
  });
});

describe('reconnect with initial_resource_versions', () => {
  const before = snapshotOf(baseResources());

  test('nothing Envoy already holds is sent again; the stream is in sync at once', () => {
    const stream = new DeltaStreamState();
    const held = new Map<string, DeltaResponse>();
    for (const { typeUrl, names } of SUBSCRIPTIONS) {
      const { outcome, responses } = stream.onRequest(
        {
          type_url: typeUrl,
          resource_names_subscribe: names,
          initial_resource_versions: heldVersions(before, typeUrl),
        },
        before,
      );
      assert.equal(outcome, 'subscribe');
      // Wildcard types get their (empty) first answer; named ones nothing at all.
      for (const r of responses) {
        assert.deepEqual(r.resources, [], `${typeUrl} resent what Envoy holds`);
        assert.deepEqual(r.removed_resources, []);
        held.set(typeUrl, r);
      }
    }
    assert.deepEqual([...held.keys()].sort(), [CDS, LDS].sort());
    for (const r of held.values()) stream.onRequest(deltaAckOf(r), before);
    assert.equal(stream.inSync(before), true);
    // /status shows the named types as acknowledged too: Envoy holds exactly their current content.
    for (const typeUrl of [RDS, SDS])
      assert.equal(stream.types.get(typeUrl)!.acked, before.types.get(typeUrl)!.version);
  });

  test('changed resources are sent, vanished ones removed, new ones added', () => {
    const after = snapshotOf(withChange(baseResources(), { clusters: [cluster('c2', 5), cluster('c3')] }));
    const stream = new DeltaStreamState();
    const r = only(
      stream.onRequest({ type_url: CDS, initial_resource_versions: heldVersions(before, CDS) }, after).responses,
    );
    assert.equal(
      stream.types.get(CDS)!.wildcard,
      true,
      'an empty subscribe list with initial versions is still the legacy wildcard',
    );
    assert.deepEqual(deltaNames(r), ['c2', 'c3']);
    assert.deepEqual(r.removed_resources, ['c1']);
    assert.equal(stream.inSync(after), false);
    stream.onRequest(deltaAckOf(r), after);
    assert.equal(stream.types.get(CDS)!.ackedVersions.has('c1'), false);
  });

  test('named: only the stale one of the held names is sent, a vanished one removed', () => {
    const after = snapshotOf(
      withChange(baseResources(), { routeConfigurations: [routes('r1', 'a.example'), routes('r2', 'moved.example')] }),
    );
    const stream = new DeltaStreamState();
    const r = only(
      stream.onRequest(
        {
          type_url: RDS,
          resource_names_subscribe: ['r1', 'r2', 'r3'],
          initial_resource_versions: { ...heldVersions(before, RDS), r3: 'old' },
        },
        after,
      ).responses,
    );
    assert.deepEqual(deltaNames(r), ['r2']);
    assert.deepEqual(r.removed_resources, ['r3']);
  });

  test('a held resource Envoy did not subscribe to is not tracked', () => {
    const stream = new DeltaStreamState();
    const r = only(
      stream.onRequest(
        {
          type_url: RDS,
          resource_names_subscribe: ['r1'],
          initial_resource_versions: { r1: 'stale', r2: hashOf(before, RDS, 'r2') },
        },
        before,
      ).responses,
    );
    assert.deepEqual(deltaNames(r), ['r1']);
    assert.equal(stream.types.get(RDS)!.ackedVersions.has('r2'), false);
  });

  test('initial versions after the first request for a type are ignored', () => {
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, RDS, ['r1'], before);
    const r = only(
      stream.onRequest(
        { type_url: RDS, resource_names_subscribe: ['r2'], initial_resource_versions: heldVersions(before, RDS) },
        before,
      ).responses,
    );
    assert.deepEqual(deltaNames(r), ['r2']);
  });
});
