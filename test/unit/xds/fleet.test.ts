import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnvoyFleet } from '../../../control-plane/src/xds/fleet.js';

// /status and the per-Envoy metrics list every Envoy this replica served, by node id, connected or not.

test('an Envoy that leaves stays listed, not connected, its last ACK ageing', () => {
  const fleet = new EnvoyFleet();
  const t0 = new Date('2026-12-02T10:00:00Z');
  fleet.connected('edge-1');
  fleet.acked('edge-1', undefined, t0);
  fleet.acked('edge-1', 'v7', new Date(t0.getTime() + 1000));
  fleet.disconnected('edge-1', new Date(t0.getTime() + 2000));
  const [view] = fleet.view(new Date(t0.getTime() + 61_000));
  assert.match(view?.firstSeenAt ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(
    { ...view, firstSeenAt: undefined },
    {
      node: 'edge-1',
      firstSeenAt: undefined,
      connected: false,
      streams: 0,
      syncedVersion: 'v7',
      lastAckAt: '2026-12-02T10:00:01.000Z',
      secondsSinceLastAck: 60,
      lastNack: null,
      nacks: 0,
      disconnectedAt: '2026-12-02T10:00:02.000Z',
    },
  );
});

test('two streams of one node (an Envoy reconnecting): connected until both end; a NACK is kept and counted', () => {
  const fleet = new EnvoyFleet();
  fleet.connected('edge-1');
  fleet.connected('edge-1');
  fleet.nacked('edge-1', { typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener', message: 'bad', at: 'x' });
  fleet.disconnected('edge-1');
  assert.equal(fleet.view()[0]?.connected, true);
  fleet.disconnected('edge-1');
  fleet.disconnected('edge-1'); // a late duplicate close does not go below zero
  const view = fleet.view()[0];
  assert.equal(view?.connected, false);
  assert.equal(view?.streams, 0);
  assert.equal(view?.nacks, 1);
  assert.equal(view?.lastNack?.message, 'bad');
  fleet.connected('edge-1');
  assert.equal(fleet.view()[0]?.disconnectedAt, null, 'back again');
});

test('departed nodes are forgotten oldest first beyond a fleet of 1,000; connected ones never', () => {
  const fleet = new EnvoyFleet();
  fleet.connected('stays');
  for (let i = 0; i < 1005; i++) {
    fleet.connected(`gone-${i}`);
    fleet.disconnected(`gone-${i}`, new Date(1_000_000 + i));
  }
  const nodes = fleet.view().map((v) => v.node);
  assert.equal(nodes.length, 1001);
  assert.ok(nodes.includes('stays'));
  assert.ok(!nodes.includes('gone-0') && !nodes.includes('gone-4') && nodes.includes('gone-5'));
});
