// After a reload the old config's objects lie between the new one's: the collection that follows must give their
// pages back (compaction), not only free the objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { collectGarbageIfGrown } from '../../../control-plane/src/runtime/collect-garbage.js';

const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
const MiB = 2 ** 20;

/** ~150 MiB of small objects, promoted to the old generation, of which one in four stays: every page keeps some. */
async function fragmentedOldGeneration(): Promise<Array<{ n: number; s: string }>> {
  const all: Array<{ n: number; s: string }> = [];
  for (let i = 0; i < 1_500_000; i++) all.push({ n: i, s: `value ${i}` });
  await new Promise((r) => setImmediate(r)); // let scavenges promote them
  return all.filter((_, i) => i % 4 === 0);
}

test('a collection after a reload compacts: a fragmented old generation gives its pages back', async () => {
  const kept = await fragmentedOldGeneration();
  collectGarbageIfGrown();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const { space_size: size, space_used_size: used } = oldSpace();
  assert.ok(kept.length > 0);
  // Without compaction the space keeps nearly every page (~150 MiB); compacted, it is near what is used.
  assert.ok(size - used < 40 * MiB, `old space ${(size / MiB).toFixed(0)} MiB for ${(used / MiB).toFixed(0)} MiB used`);
});
