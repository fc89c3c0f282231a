// Shared setup of the config error tests: the test PEMs and the errors of a config text.
import { MemoryFiles, expectErrors, loadPems, run, standardFiles, type Pems } from './fixture.js';

export let pems: Pems;
export let files: () => MemoryFiles;

/** Loads the test PEMs; each test file calls it from its `before` hook. */
export async function loadTestPems(): Promise<void> {
  pems = await loadPems();
  files = () => new MemoryFiles(standardFiles(pems));
}
export const errorsOf = (text: string, extra: Record<string, string> = {}) =>
  expectErrors(run(text, { files: new MemoryFiles({ ...standardFiles(pems), ...extra }) }));
