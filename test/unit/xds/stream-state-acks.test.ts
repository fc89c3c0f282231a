// AdsStreamState: what one state-of-the-world xDS stream sends, for each request and snapshot.
// Here: the first request for a type, ACK, NACK and stale nonces.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AdsStreamState } from '../../../control-plane/src/xds/index.js';
import {
  CDS,
  LDS,
  RDS,
  SDS,
  ackOf,
  baseResources,
  cluster,
  decodedNames,
  nackOf,
  routes,
  settledStream,
  snapshotOf,
  withChange,
} from './fixtures.js';
import { only } from './stream-state-helpers.js';

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
