import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  keepRemoved,
  PUSH_ORDER,
  rollBackType,
  selectResources,
  type Snapshot,
} from '../../../control-plane/src/xds/index.js';
import { CDS, LDS, RDS, SDS, baseResources, cluster, routes, secret, snapshotOf, withChange } from './fixtures.js';

function typeVersions(s: Snapshot): Record<string, string> {
  return Object.fromEntries([...s.types].map(([url, t]) => [url, t.version]));
}

test('every type is in the snapshot and in the push order', () => {
  const s = snapshotOf(baseResources());
  assert.deepEqual(new Set(s.types.keys()), new Set([CDS, LDS, RDS, SDS]));
  assert.deepEqual([...PUSH_ORDER], [CDS, SDS, LDS, RDS]);
});

test('building the same resources twice gives the same versions and bytes', () => {
  // Fresh objects each time: equality must come from content, not from sharing.
  const a = snapshotOf(baseResources());
  const b = snapshotOf(baseResources());
  assert.equal(a.version, b.version);
  assert.deepEqual(typeVersions(a), typeVersions(b));
  for (const [url, type] of a.types) {
    for (const [name, r] of type.resources)
      assert.ok(r.any.value.equals(b.types.get(url)!.resources.get(name)!.any.value), `${name} encodes the same`);
  }
});

test('changing one byte of one resource changes only its type version', () => {
  const before = snapshotOf(baseResources());
  const cases: Array<[string, Snapshot]> = [
    [CDS, snapshotOf(withChange(baseResources(), { clusters: [cluster('c1', 2), cluster('c2')] }))],
    [SDS, snapshotOf(withChange(baseResources(), { secrets: [secret('s1', 'CA-1'), secret('s2', 'CA-3')] }))],
    [
      RDS,
      snapshotOf(
        withChange(baseResources(), { routeConfigurations: [routes('r1', 'a.example'), routes('r2', 'c.example')] }),
      ),
    ],
  ];
  for (const [changed, after] of cases) {
    assert.notEqual(after.version, before.version, `${changed}: overall version moves`);
    for (const url of before.types.keys()) {
      const moved = before.types.get(url)!.version !== after.types.get(url)!.version;
      assert.equal(moved, url === changed, `${changed} change: ${url} version ${moved ? 'moved' : 'stayed'}`);
    }
  }
});

test("a named selection's version covers only the requested names", () => {
  const before = snapshotOf(baseResources()).types.get(RDS)!;
  const after = snapshotOf(
    withChange(baseResources(), { routeConfigurations: [routes('r1', 'a.example'), routes('r2', 'other.example')] }),
  ).types.get(RDS)!;
  assert.equal(selectResources(before, ['r1']).version, selectResources(after, ['r1']).version);
  assert.notEqual(selectResources(before, ['r2']).version, selectResources(after, ['r2']).version);
  // Order and duplicates in the request do not matter, the resource set does.
  assert.equal(selectResources(before, ['r2', 'r1', 'r2']).version, selectResources(before, ['r1', 'r2']).version);
  assert.deepEqual(
    selectResources(before, ['r2', 'r1']).resources.map((r) => r.name),
    ['r1', 'r2'],
  );
  // Names that do not exist (yet) are left out rather than failing.
  assert.deepEqual(
    selectResources(before, ['missing', 'r1']).resources.map((r) => r.name),
    ['r1'],
  );
  assert.equal(selectResources(before, 'wildcard').version, before.version);
});

test('renaming a resource with identical content changes the version', () => {
  const a = snapshotOf(withChange(baseResources(), { secrets: [secret('s1', 'same')] }));
  const b = snapshotOf(
    withChange(baseResources(), {
      secrets: [
        { name: 'other', resource: { name: 's1', validation_context: { trusted_ca: { inline_string: 'same' } } } },
      ],
    }),
  );
  assert.notEqual(a.types.get(SDS)!.version, b.types.get(SDS)!.version);
});

test(
  'rollBackType: the rejected type as it was, the accepted ' + 'types as they are, plus what the old type may name',
  () => {
    const good = snapshotOf(baseResources());
    const next = snapshotOf(
      withChange(baseResources(), {
        clusters: [cluster('c3')],
        routeConfigurations: [routes('r1', 'changed.example'), routes('r2', 'b.example')],
        secrets: [secret('s1', 'CA-1-rotated'), secret('s2', 'CA-2')],
      }),
    );
    const restored = rollBackType(next, good, RDS);
    assert.equal(restored.types.get(RDS)!.version, good.types.get(RDS)!.version);
    assert.equal(restored.types.get(SDS)!.version, next.types.get(SDS)!.version, 'the accepted secrets stay');
    assert.deepEqual(
      [...restored.types.get(CDS)!.resources.keys()].sort(),
      ['c1', 'c2', 'c3'],
      'the old routes still find their clusters',
    );
    assert.notEqual(restored.version, next.version);
    assert.equal(rollBackType(next, good, RDS).version, restored.version, 'deterministic');
  },
);

test('keepRemoved: clusters only the previous snapshot had are kept; nothing else changes; no removal, no copy', () => {
  const previous = snapshotOf(baseResources());
  const next = snapshotOf(
    withChange(baseResources(), {
      clusters: [cluster('c2'), cluster('c3')],
      routeConfigurations: [routes('r1', 'moved.example'), routes('r2')],
    }),
  );
  const staged = keepRemoved(next, previous, CDS);
  assert.deepEqual([...staged.types.get(CDS)!.resources.keys()].sort(), ['c1', 'c2', 'c3']);
  assert.equal(staged.types.get(RDS), next.types.get(RDS));
  assert.notEqual(staged.version, next.version);
  assert.equal(keepRemoved(next, next, CDS), next);
});
