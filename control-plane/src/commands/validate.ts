import { summarize } from '../pipeline.js';
import { sortedErrors } from '../source/diagnostics.js';
import { loadAndCompile, printErrors } from './load.js';

/** `mtls-edge validate`: 0 and a summary for a good config, 1 and every error for a bad one. */
export function validateCommand(configPath: string | undefined, o: { json: boolean }): number {
  const result = loadAndCompile(configPath);
  if ('errors' in result) {
    if (o.json) {
      // file, line, column (when known), key, message: what an editor or a CI annotation needs.
      process.stdout.write(JSON.stringify({ ok: false, errors: sortedErrors(result.errors) }) + '\n');
    } else {
      printErrors(result.errors);
    }
    return 1;
  }
  const s = summarize(result.compiled);
  const version = result.compiled.snapshot.version;
  if (o.json) {
    process.stdout.write(JSON.stringify({ ok: true, summary: { ...s, version } }) + '\n');
    return 0;
  }
  process.stdout.write(
    `config OK: ${s.routes} routes on ${s.hosts} hosts, ${s.filterChains} filter chains, ${s.clusters} ` +
      `clusters, ${s.secrets} secrets (version ${version})\n`,
  );
  return 0;
}
