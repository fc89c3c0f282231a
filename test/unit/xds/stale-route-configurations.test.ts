import type { EnvoyResources } from '../../../control-plane/src/envoy-api/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdsStreamState,
  DeltaStreamState,
  rollBackType,
  selectResources,
} from '../../../control-plane/src/xds/index.js';
import { ackOf, codec, decodedNames, RDS, routes, snapshotOf } from './fixtures.js';

/** A chain's route configuration at trust generation `aaa`, and the stale template for older generations. */
function resources(generation = 'aaa', domain = 'x.example'): EnvoyResources {
  return {
    clusters: [],
    listeners: [],
    routeConfigurations: [routes(`routes-client-ca-1@${generation}`, domain), routes('routes-none', 'public.example')],
    secrets: [],
    staleRouteConfiguration: () => routes('routes-stale', 'stale.example'),
    closedRouteConfiguration: routes('routes-closed', 'closed.example'),
  };
}

const nameOf = (any: Parameters<typeof codec.decode>[0]) => (codec.decode(any) as { name: string }).name;

test('an older generation name resolves to the stale template under that name; other names do not', () => {
  const rds = snapshotOf(resources()).types.get(RDS)!;
  const stale = rds.resolve!('routes-client-ca-1@000');
  assert.ok(stale);
  assert.equal(nameOf(stale.any), 'routes-client-ca-1@000');
  assert.deepEqual(
    (codec.decode(stale.any) as { virtual_hosts: Array<{ domains: string[] }> }).virtual_hosts[0]!.domains,
    ['stale.example'],
  );
  // A class this process never produced (a restart while Envoy drains): the template too.
  assert.ok(rds.resolve!('routes-client-ca-gone@123'));
  assert.equal(rds.resolve!('routes-client-ca-1@aaa'), undefined, 'the current name is the current resource');
  assert.equal(rds.resolve!('routes-none'), undefined, 'a name without a generation');
  assert.equal(rds.resolve!('routes-client-ca-1@zz!'), undefined);
  assert.equal(rds.resources.has('routes-client-ca-1@000'), false, 'never pushed unasked');
  assert.equal(rds.resolve!('routes-client-ca-1@000'), stale, 'encoded once per name and snapshot');
});

test('state of the world: a stream that asks for an old name gets it, and is in sync once it ACKs', () => {
  const snapshot = snapshotOf(resources());
  const stream = new AdsStreamState();
  const names = ['routes-client-ca-1@000', 'routes-client-ca-1@aaa', 'routes-none'];
  const { responses } = stream.onRequest({ type_url: RDS, resource_names: names }, snapshot);
  assert.deepEqual(decodedNames(responses[0]!), names);
  stream.onRequest(ackOf(responses[0]!, names), snapshot);
  assert.equal(stream.types.get(RDS)!.acked, selectResources(snapshot.types.get(RDS)!, names).version);
  // Only RDS is subscribed here; the other types are empty, so the stream is in sync.
  assert.ok(stream.inSync(snapshot));
  // A stream that does not ask for the old name is in sync without it.
  const other = new AdsStreamState();
  const current = ['routes-client-ca-1@aaa', 'routes-none'];
  const r = other.onRequest({ type_url: RDS, resource_names: current }, snapshot).responses[0]!;
  other.onRequest(ackOf(r, current), snapshot);
  assert.ok(other.inSync(snapshot));
});

test('a second narrowing re-sends the old name with the new template', () => {
  const stream = new AdsStreamState();
  const names = ['routes-client-ca-1@000', 'routes-client-ca-1@aaa'];
  const first = snapshotOf(resources());
  const r1 = stream.onRequest({ type_url: RDS, resource_names: names }, first).responses[0]!;
  stream.onRequest(ackOf(r1, names), first);
  const next = snapshotOf({
    ...resources('bbb'),
    staleRouteConfiguration: () => routes('routes-stale', 'newer.example'),
  });
  const [r2] = stream.onSnapshot(next);
  assert.ok(r2, 'the changed template is sent to the stream that holds old names');
  const sent = r2.resources.map(
    (any) => codec.decode(any) as { name: string; virtual_hosts: Array<{ domains: string[] }> },
  );
  assert.deepEqual(
    sent.map((r) => [r.name, r.virtual_hosts[0]!.domains[0]]),
    [
      ['routes-client-ca-1@000', 'newer.example'],
      ['routes-client-ca-1@aaa', 'newer.example'],
    ],
  );
});

test('delta: an old name subscribed is sent, acknowledged, and counts towards sync', () => {
  const snapshot = snapshotOf(resources());
  const stream = new DeltaStreamState();
  const names = ['routes-client-ca-1@000', 'routes-client-ca-1@aaa', 'routes-none'];
  const { responses } = stream.onRequest({ type_url: RDS, resource_names_subscribe: names }, snapshot);
  assert.deepEqual(
    responses[0]!.resources.map((r) => r.name),
    names,
  );
  assert.equal(stream.inSync(snapshot), false, 'not before the ACK');
  stream.onRequest({ type_url: RDS, response_nonce: responses[0]!.nonce }, snapshot);
  assert.ok(stream.inSync(snapshot));
  // Unsubscribing the old name (the drained chain is gone) leaves the stream in sync.
  const after = stream.onRequest({ type_url: RDS, resource_names_unsubscribe: ['routes-client-ca-1@000'] }, snapshot);
  assert.deepEqual(after.responses, []);
  assert.ok(stream.inSync(snapshot));
});

test(
  'a refused route edit that came with a trust change: the ' +
    'new name keeps the old routes, the old name fails closed',
  () => {
    const good = snapshotOf(resources('aaa', 'old.example'));
    const refused = snapshotOf(resources('bbb', 'new.example'));
    const restored = rollBackType(refused, good, RDS).types.get(RDS)!;
    const kept = restored.resources.get('routes-client-ca-1@bbb');
    assert.ok(kept, 'the name the accepted listener reads exists');
    assert.deepEqual(
      (codec.decode(kept.any) as { virtual_hosts: Array<{ domains: string[] }> }).virtual_hosts[0]!.domains,
      ['old.example'],
    );
    // Connections made before the change read @aaa: never the routes they had (the new trust was not applied to them),
    // and not the stale template either (it holds the routes Envoy refused): 495 to everything, until the next good
    // edit.
    const old = restored.resources.get('routes-client-ca-1@aaa');
    assert.ok(old);
    assert.equal(nameOf(old.any), 'routes-client-ca-1@aaa');
    assert.deepEqual(
      (codec.decode(old.any) as { virtual_hosts: Array<{ domains: string[] }> }).virtual_hosts[0]!.domains,
      ['closed.example'],
    );
    assert.ok(restored.resolve, 'older names still resolve');
    // Envoy may refuse a second response of the same edit (delta sends per subscription): rolling back the rolled-back
    // snapshot must not bring the old routes back either.
    const twice = rollBackType(
      { ...refused, types: new Map([...refused.types, [RDS, restored]]) },
      good,
      RDS,
    ).types.get(RDS)!;
    assert.deepEqual(
      (
        codec.decode(twice.resources.get('routes-client-ca-1@aaa')!.any) as {
          virtual_hosts: Array<{ domains: string[] }>;
        }
      ).virtual_hosts[0]!.domains,
      ['closed.example'],
    );
  },
);

test(
  'a refused listener (or cluster, or secret) edit that came with a ' +
    'trust change: old names get the stale template, not their old routes',
  () => {
    const good = snapshotOf(resources('aaa', 'old.example'));
    const next = snapshotOf(resources('bbb', 'new.example'));
    for (const rejected of [
      'type.googleapis.com/envoy.config.listener.v3.Listener',
      'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    ]) {
      const restored = rollBackType(next, good, rejected).types.get(RDS)!;
      assert.equal(restored.resources.has('routes-client-ca-1@aaa'), false, 'not pushed with its old content');
      const old = selectResources(restored, ['routes-client-ca-1@aaa']).resources[0]!;
      assert.deepEqual(
        (codec.decode(old.any) as { virtual_hosts: Array<{ domains: string[] }> }).virtual_hosts[0]!.domains,
        ['stale.example'],
      );
    }
  },
);
