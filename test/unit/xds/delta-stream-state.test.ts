import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaStreamState, type Snapshot } from '../../../control-plane/src/xds/index.js';
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
  deltaNames,
  heldVersions,
  listener,
  namesFor,
  routes,
  secret,
  settledDeltaStream,
  snapshotOf,
  withChange,
  type DeltaResponse,
} from './fixtures.js';

function only(responses: DeltaResponse[]): DeltaResponse {
  assert.equal(
    responses.length,
    1,
    `expected exactly one response, got ${responses.map((r) => r.type_url).join(', ') || 'none'}`,
  );
  return responses[0]!;
}

/** Subscribes and ACKs in one go; returns the response that was ACKed. */
function subscribeAndAck(
  stream: DeltaStreamState,
  typeUrl: string,
  names: string[],
  snapshot: Snapshot,
): DeltaResponse {
  const r = only(stream.onRequest({ type_url: typeUrl, resource_names_subscribe: names }, snapshot).responses);
  assert.equal(stream.onRequest(deltaAckOf(r), snapshot).outcome, 'ack');
  return r;
}

function hashOf(snapshot: Snapshot, typeUrl: string, name: string): string {
  return snapshot.types.get(typeUrl)!.resources.get(name)!.hash;
}

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

  test('a wildcard subscription to an empty type is answered with an empty response, which Envoy waits for at startup', () => {
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
  });

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
