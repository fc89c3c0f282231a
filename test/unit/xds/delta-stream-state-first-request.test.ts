// DeltaStreamState: what one incremental (delta) xDS stream sends, for each request and snapshot.
// Here: the first request for a type, and snapshot changes that send only what changed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaStreamState } from '../../../control-plane/src/xds/index.js';
import {
  CDS,
  LDS,
  RDS,
  SDS,
  baseResources,
  cluster,
  deltaAckOf,
  deltaNames,
  listener,
  routes,
  secret,
  settledDeltaStream,
  snapshotOf,
  withChange,
} from './fixtures.js';
import { only, subscribeAndAck, hashOf } from './delta-stream-helpers.js';

describe('first request for a type', () => {
  const snapshot = snapshotOf(baseResources());

  test('clusters are wildcard: a first request with no names gets every cluster, each versioned by its hash', () => {
    const { outcome, responses } = new DeltaStreamState().onRequest({ type_url: CDS }, snapshot);
    assert.equal(outcome, 'subscribe');
    const r = only(responses);
    assert.equal(r.type_url, CDS);
    assert.deepEqual(deltaNames(r), ['c1', 'c2']);
    for (const res of r.resources) {
      assert.equal(res.version, hashOf(snapshot, CDS, res.name));
      assert.equal(res.resource.type_url, CDS);
    }
    assert.deepEqual(r.removed_resources, []);
    assert.equal(r.system_version_info, snapshot.types.get(CDS)!.version);
    assert.notEqual(r.nonce, '');
  });

  test("listeners are wildcard too, also when asked for with '*'", () => {
    const r = only(
      new DeltaStreamState().onRequest({ type_url: LDS, resource_names_subscribe: ['*'] }, snapshot).responses,
    );
    assert.deepEqual(deltaNames(r), ['https']);
    assert.equal(r.system_version_info, snapshot.types.get(LDS)!.version);
  });

  test('a first cluster request naming clusters (and no "*") subscribes to those names only', () => {
    const stream = new DeltaStreamState();
    assert.deepEqual(
      deltaNames(only(stream.onRequest({ type_url: CDS, resource_names_subscribe: ['c2'] }, snapshot).responses)),
      ['c2'],
    );
    assert.equal(stream.types.get(CDS)!.wildcard, false);
  });

  test('route configurations are named: only the requested ones are sent', () => {
    const r = only(
      new DeltaStreamState().onRequest({ type_url: RDS, resource_names_subscribe: ['r2'] }, snapshot).responses,
    );
    assert.deepEqual(deltaNames(r), ['r2']);
    assert.equal(r.system_version_info, snapshot.types.get(RDS)!.version);
  });

  test('secrets are named: only the requested ones are sent', () => {
    const r = only(
      new DeltaStreamState().onRequest({ type_url: SDS, resource_names_subscribe: ['s1'] }, snapshot).responses,
    );
    assert.deepEqual(deltaNames(r), ['s1']);
  });

  test("a named type is never wildcard: no names subscribes to nothing, and '*' is not a name", () => {
    const stream = new DeltaStreamState();
    assert.deepEqual(stream.onRequest({ type_url: RDS }, snapshot).responses, []);
    assert.deepEqual(stream.onRequest({ type_url: SDS, resource_names_subscribe: ['*'] }, snapshot).responses, []);
    assert.equal(stream.types.get(RDS)!.wildcard, false);
    assert.equal(stream.types.get(SDS)!.wildcard, false);
  });

  test(
    'a wildcard subscription to an empty type is answered ' +
      'with an empty response, which Envoy waits for at startup',
    () => {
      const empty = snapshotOf(withChange(baseResources(), { listeners: [] }));
      const stream = new DeltaStreamState();
      const r = only(stream.onRequest({ type_url: LDS }, empty).responses);
      assert.deepEqual(r.resources, []);
      assert.deepEqual(r.removed_resources, []);
      stream.onRequest(deltaAckOf(r), empty);
      // Only the first time: after that, nothing to say means no response.
      assert.deepEqual(
        stream
          .onSnapshot(snapshotOf(withChange(baseResources(), { listeners: [], clusters: [cluster('c9')] })))
          .map((x) => x.type_url),
        [],
      );
    },
  );

  test('a request before any snapshot exists is remembered and answered by the first snapshot', () => {
    const stream = new DeltaStreamState();
    assert.deepEqual(stream.onRequest({ type_url: CDS }, undefined).responses, []);
    assert.deepEqual(stream.onRequest({ type_url: SDS, resource_names_subscribe: ['s2'] }, undefined).responses, []);
    const pushed = stream.onSnapshot(snapshot);
    assert.deepEqual(
      pushed.map((r) => [r.type_url, deltaNames(r)]),
      [
        [CDS, ['c1', 'c2']],
        [SDS, ['s2']],
      ],
    );
  });
});

describe('snapshot changes send only what changed', () => {
  test('changed and added resources are sent, removed ones named, unchanged ones never', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const next = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 7), cluster('c3')] }));
    const r = only(stream.onSnapshot(next));
    assert.equal(r.type_url, CDS);
    assert.deepEqual(deltaNames(r), ['c1', 'c3']);
    assert.deepEqual(r.removed_resources, ['c2']);
    assert.equal(r.resources[0]!.version, hashOf(next, CDS, 'c1'));
    assert.equal(r.system_version_info, next.types.get(CDS)!.version);
  });

  test('a removal alone is a response with no resources', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const r = only(stream.onSnapshot(snapshotOf(withChange(baseResources(), { secrets: [secret('s1', 'CA-1')] }))));
    assert.equal(r.type_url, SDS);
    assert.deepEqual(r.resources, []);
    assert.deepEqual(r.removed_resources, ['s2']);
  });

  test('a snapshot rebuilt from identical resources sends nothing', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    assert.deepEqual(stream.onSnapshot(snapshotOf(baseResources())), []);
  });

  test('nothing is sent again while a response is unanswered', () => {
    const { stream } = settledDeltaStream(snapshotOf(baseResources()));
    const next = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 7), cluster('c2')] }));
    only(stream.onSnapshot(next));
    assert.deepEqual(stream.onSnapshot(next), []);
  });

  for (const { label, change, typeUrl, names } of [
    {
      label: 'a route-only change',
      change: { routeConfigurations: [routes('r1', 'new.example'), routes('r2', 'b.example')] },
      typeUrl: RDS,
      names: ['r1'],
    },
    {
      label: 'a cluster-only change',
      change: { clusters: [cluster('c1'), cluster('c2'), cluster('c3')] },
      typeUrl: CDS,
      names: ['c3'],
    },
    {
      label: 'a secret-only change',
      change: { secrets: [secret('s1', 'CA-1'), secret('s2', 'CA-2-rotated')] },
      typeUrl: SDS,
      names: ['s2'],
    },
    {
      label: 'a listener-only change',
      change: { listeners: [listener('https', 'edge')] },
      typeUrl: LDS,
      names: ['https'],
    },
  ]) {
    test(`${label} sends only that type, and only the changed resource`, () => {
      const { stream } = settledDeltaStream(snapshotOf(baseResources()));
      const r = only(stream.onSnapshot(snapshotOf(withChange(baseResources(), change))));
      assert.equal(r.type_url, typeUrl);
      assert.deepEqual(deltaNames(r), names);
    });
  }

  test('a change to a route configuration the stream did not subscribe to produces nothing', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new DeltaStreamState();
    subscribeAndAck(stream, RDS, ['r1'], snapshot);
    const r2Changed = snapshotOf(
      withChange(baseResources(), {
        routeConfigurations: [routes('r1', 'a.example'), routes('r2', 'elsewhere.example')],
      }),
    );
    assert.deepEqual(stream.onSnapshot(r2Changed), []);
    const r1Changed = snapshotOf(
      withChange(baseResources(), {
        routeConfigurations: [routes('r1', 'new.example'), routes('r2', 'elsewhere.example')],
      }),
    );
    assert.deepEqual(deltaNames(only(stream.onSnapshot(r1Changed))), ['r1']);
  });
});
