// Property tests run with a fixed seed so that CI and the mutation check (npm run mutate) see the same cases on
// every run: a mutation a property catches is caught every time. `FC_SEED=<n>` or `FC_SEED=random` explores
// other cases; fast-check prints the seed of a failure, and `FC_SEED=<that seed>` reproduces it.
const FIXED_SEED = 20261201;

export function propertyRuns(numRuns: number): { numRuns: number; seed: number } {
  const chosen = process.env['FC_SEED'];
  if (chosen === undefined || chosen === '') return { numRuns, seed: FIXED_SEED };
  const seed = chosen === 'random' ? Date.now() % 2 ** 31 : Number(chosen);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", not ${JSON.stringify(chosen)}`);
  return { numRuns, seed };
}
