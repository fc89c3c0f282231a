import type { EdgeStatus, RunningEdge } from './edge.js';

/**
 * Writes the config and waits until the control plane has applied it and Envoy has it, also when the text
 * did not change (a test that puts the first config back may find it already there). Waits on the reload's
 * own timestamp, so that it never takes an earlier reload for this one.
 */
export async function applyConfig(
  edge: RunningEdge,
  yaml: string,
  writeFilesFirst: () => void = () => {},
): Promise<EdgeStatus> {
  const before = (await edge.status()).reload.lastApplied;
  // Written in the same tick as the config, so that the watcher's debounce makes one reload of them all.
  writeFilesFirst();
  edge.writeConfig(yaml);
  return edge.waitForStatus((s) => s.reload.lastApplied !== before && s.reload.errors.length === 0 && s.synced);
}
