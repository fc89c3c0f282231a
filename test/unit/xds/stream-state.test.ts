import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AdsStreamState, type Snapshot } from '../../../control-plane/src/xds/index.js';
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

/** Envoy always holds CDS and LDS subscriptions; without them a stream is never in sync. */
function subscribeWildcards(stream: AdsStreamState, snapshot: Snapshot): void {
  for (const type_url of [CDS, LDS])
    stream.onRequest(ackOf(only(stream.onRequest({ type_url, resource_names: [] }, snapshot).responses)), snapshot);
}

function only(responses: Response[]): Response {
  assert.equal(
    responses.length,
    1,
    `expected exactly one response, got ${responses.map((r) => r.type_url).join(', ') || 'none'}`,
  );
  return responses[0]!;
}

describe('first request for a type', () => {
  const snapshot = snapshotOf(baseResources());

  test('clusters are wildcard: an empty name list gets every cluster', () => {
    const { outcome, responses } = new AdsStreamState().onRequest({ type_url: CDS, resource_names: [] }, snapshot);
    assert.equal(outcome, 'subscribe');
    const r = only(responses);
    assert.equal(r.type_url, CDS);
    assert.deepEqual(decodedNames(r), ['c1', 'c2']);
    assert.equal(r.version_info, snapshot.types.get(CDS)!.version);
  });

  test("listeners are wildcard too, also when asked for with '*'", () => {
    const r = only(new AdsStreamState().onRequest({ type_url: LDS, resource_names: ['*'] }, snapshot).responses);
    assert.deepEqual(decodedNames(r), ['https']);
    assert.equal(r.version_info, snapshot.types.get(LDS)!.version);
  });

  test('route configurations are named: only the requested ones are sent', () => {
    const r = only(new AdsStreamState().onRequest({ type_url: RDS, resource_names: ['r2'] }, snapshot).responses);
    assert.deepEqual(decodedNames(r), ['r2']);
    // The version covers only what this stream gets, not the whole type.
    assert.notEqual(r.version_info, snapshot.types.get(RDS)!.version);
  });

  test('secrets are named: only the requested ones are sent', () => {
    const r = only(new AdsStreamState().onRequest({ type_url: SDS, resource_names: ['s1'] }, snapshot).responses);
    assert.deepEqual(decodedNames(r), ['s1']);
  });

  test('an empty name list for a named type subscribes to nothing', () => {
    const r = only(new AdsStreamState().onRequest({ type_url: RDS, resource_names: [] }, snapshot).responses);
    assert.deepEqual(r.resources, []);
  });

  test('a request before any snapshot exists is remembered and answered by the first snapshot', () => {
    const stream = new AdsStreamState();
    assert.deepEqual(stream.onRequest({ type_url: CDS, resource_names: [] }, undefined).responses, []);
    const r = only(stream.onSnapshot(snapshot));
    assert.deepEqual(decodedNames(r), ['c1', 'c2']);
  });
});

describe('ACK', () => {
  test('records the acked version and sends nothing when nothing changed', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    const r = only(stream.onRequest({ type_url: RDS, resource_names: ['r1'] }, snapshot).responses);
    const ack = stream.onRequest(ackOf(r, ['r1']), snapshot);
    assert.equal(ack.outcome, 'ack');
    assert.deepEqual(ack.responses, []);
    assert.equal(stream.types.get(RDS)!.acked, r.version_info);
    assert.equal(stream.types.get(RDS)!.nack, undefined);
    // A snapshot rebuilt from identical resources is not news either.
    assert.deepEqual(stream.onSnapshot(snapshotOf(baseResources())), []);
  });

  test('an ACK that also asks for more names is answered with the larger set', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    const first = only(stream.onRequest({ type_url: RDS, resource_names: ['r1'] }, snapshot).responses);
    const { outcome, responses } = stream.onRequest(ackOf(first, ['r2', 'r1']), snapshot);
    assert.equal(outcome, 'ack');
    assert.deepEqual(decodedNames(only(responses)), ['r1', 'r2']);
  });
});

describe('NACK', () => {
  test('records the error, keeps the acked version, and does not resend the rejected snapshot', () => {
    const good = snapshotOf(baseResources());
    const { stream, last } = settledStream(good);
    const ackedVersion = last.get(CDS)!.version_info;

    const bad = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2')] }));
    const pushed = only(stream.onSnapshot(bad));
    assert.equal(pushed.type_url, CDS);

    const now = new Date('2024-05-01T12:00:00Z');
    const nack = stream.onRequest(nackOf(pushed, ackedVersion, [], 'bad cluster'), bad, now);
    assert.equal(nack.outcome, 'nack');
    // The loop go-control-plane falls into: answering a NACK with the same content again.
    assert.deepEqual(nack.responses, []);
    const state = stream.types.get(CDS)!;
    assert.equal(state.acked, ackedVersion);
    assert.deepEqual(state.nack, { version: pushed.version_info, message: 'bad cluster', at: now.toISOString() });

    // Another push of the same snapshot (e.g. a config reload with no effect) stays quiet too.
    assert.deepEqual(stream.onSnapshot(bad), []);
    assert.deepEqual(
      stream.onSnapshot(snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99), cluster('c2')] }))),
      [],
    );
  });

  test('a later, different snapshot is sent, and its ACK clears the error', () => {
    const { stream, last } = settledStream(snapshotOf(baseResources()));
    const ackedVersion = last.get(CDS)!.version_info;
    const bad = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99)] }));
    const rejected = only(stream.onSnapshot(bad));
    stream.onRequest(nackOf(rejected, ackedVersion), bad);

    const fixed = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 5)] }));
    const retry = only(stream.onSnapshot(fixed));
    assert.equal(retry.type_url, CDS);
    assert.notEqual(retry.version_info, rejected.version_info);
    assert.notEqual(retry.nonce, rejected.nonce);

    assert.equal(stream.onRequest(ackOf(retry), fixed).outcome, 'ack');
    assert.equal(stream.types.get(CDS)!.acked, retry.version_info);
    assert.equal(stream.types.get(CDS)!.nack, undefined);
  });

  test('going back to the last good snapshot after a NACK is sent', () => {
    const good = snapshotOf(baseResources());
    const { stream, last } = settledStream(good);
    const bad = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 99)] }));
    stream.onRequest(nackOf(only(stream.onSnapshot(bad)), last.get(CDS)!.version_info), bad);
    // Envoy still runs the good version, but what it was last sent is the bad one; the revert must reach it.
    const revert = only(stream.onSnapshot(good));
    assert.equal(revert.version_info, last.get(CDS)!.version_info);
  });
});

describe('stale nonces', () => {
  test('a request answering an older response is ignored', () => {
    const v1 = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    const first = only(stream.onRequest({ type_url: CDS, resource_names: [] }, v1).responses);
    const v2 = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 2)] }));
    const second = only(stream.onSnapshot(v2));

    // Envoy's ACK of the first response crosses the second one on the wire.
    const late = stream.onRequest(ackOf(first), v2);
    assert.equal(late.outcome, 'stale');
    assert.deepEqual(late.responses, []);
    assert.equal(stream.types.get(CDS)!.acked, undefined);

    // A late NACK is not recorded either: it is about content that is no longer current.
    const lateNack = stream.onRequest(nackOf(first, ''), v2);
    assert.equal(lateNack.outcome, 'stale');
    assert.equal(stream.types.get(CDS)!.nack, undefined);

    assert.equal(stream.onRequest(ackOf(second), v2).outcome, 'ack');
    assert.equal(stream.types.get(CDS)!.acked, second.version_info);
  });

  test("a stale request does not change the stream's subscription", () => {
    const v1 = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    const first = only(stream.onRequest({ type_url: RDS, resource_names: ['r1'] }, v1).responses);
    stream.onSnapshot(
      snapshotOf(withChange(baseResources(), { routeConfigurations: [routes('r1', 'changed.example'), routes('r2')] })),
    );
    assert.deepEqual(stream.onRequest(ackOf(first, ['r1', 'r2']), v1).responses, []);
    assert.deepEqual(stream.types.get(RDS)!.names, ['r1']);
  });

  test('a nonce this stream never sent for that type is ignored', () => {
    const snapshot = snapshotOf(baseResources());
    const stream = new AdsStreamState();
    const cds = only(stream.onRequest({ type_url: CDS, resource_names: [] }, snapshot).responses);
    // The nonce of a CDS response says nothing about LDS.
    const cross = stream.onRequest(
      { type_url: LDS, response_nonce: cds.nonce, version_info: cds.version_info },
      snapshot,
    );
    assert.equal(cross.outcome, 'stale');
    assert.deepEqual(cross.responses, []);
    assert.equal(
      stream.onRequest({ type_url: CDS, response_nonce: 'made-up', version_info: cds.version_info }, snapshot).outcome,
      'stale',
    );
    assert.equal(stream.types.get(CDS)!.acked, undefined);
  });
});

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
    // Envoy asks for LDS only once its clusters have warmed, after the CDS ACK: /readyz must not pass in between.
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
