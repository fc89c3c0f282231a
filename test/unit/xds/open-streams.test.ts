// The server's record of which streams run the current snapshot in full (issue 13, fan-out): kept per stream on its
// own requests and on each new snapshot, it must agree with asking every stream (what the server did before).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stream } from '../../../control-plane/src/xds/ads-types.js';
import { OpenStreams } from '../../../control-plane/src/xds/open-streams.js';
import { AdsStreamState } from '../../../control-plane/src/xds/index.js';
import { ackOf, baseResources, cluster, settledStream, snapshotOf, withChange, CDS } from './fixtures.js';
import { only } from './stream-state-helpers.js';

const streamOf = (state: AdsStreamState) => ({ state }) as unknown as Stream;

test('a stream counts once it runs the snapshot in full, and stops counting when a new one reaches it', () => {
  const base = snapshotOf(baseResources());
  const open = new OpenStreams();
  assert.equal(open.allInSync(), false, 'no stream: not in sync');
  const state = settledStream(base).stream;
  const a = streamOf(state);
  const b = streamOf(new AdsStreamState());
  open.add(a);
  open.recheck(a, base);
  assert.ok(open.inSync(a) && open.allInSync());
  open.add(b);
  open.recheck(b, base);
  assert.equal(open.allInSync(), false, 'a stream that asked for nothing is not in sync');
  assert.ok(open.delete(b));
  assert.ok(open.allInSync());

  const changed = snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 2), cluster('c2')] }));
  const response = only(state.onSnapshot(changed));
  open.recheckAll(changed);
  assert.equal(open.inSync(a), false, 'clusters sent, not yet ACKed');
  state.onRequest(ackOf(response), changed);
  open.recheck(a, changed);
  assert.equal(response.type_url, CDS);
  assert.ok(open.inSync(a) && open.allInSync());
});

test('a snapshot that changes nothing a stream holds leaves it in sync without a request', () => {
  const base = snapshotOf(baseResources());
  const open = new OpenStreams();
  const a = streamOf(settledStream(base).stream);
  open.add(a);
  open.recheck(a, base);
  const same = snapshotOf(baseResources());
  assert.deepEqual(a.state.onSnapshot(same), []);
  open.recheckAll(same);
  assert.ok(open.allInSync());
});

test('a stream not added (refused, or closed) never counts', () => {
  const base = snapshotOf(baseResources());
  const open = new OpenStreams();
  const a = streamOf(settledStream(base).stream);
  open.recheck(a, base);
  assert.equal(open.inSync(a), false);
  open.add(a);
  open.recheck(a, base);
  assert.equal(open.delete(a), true);
  assert.equal(open.delete(a), false);
  assert.equal(open.inSync(a), false);
  assert.equal(open.allInSync(), false);
});
