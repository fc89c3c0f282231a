import { summarize } from '../pipeline.js';
import { loadAndCompile, printErrors } from './load.js';

export function validateCommand(configPath: string | undefined): number {
  const result = loadAndCompile(configPath);
  if ('errors' in result) {
    printErrors(result.errors);
    return 1;
  }
  const s = summarize(result.compiled);
  process.stdout.write(
    `config OK: ${s.routes} routes on ${s.hosts} hosts, ${s.filterChains} filter chains, ${s.clusters} ` +
      `clusters, ${s.secrets} secrets (version ${result.compiled.snapshot.version})\n`,
  );
  return 0;
}
