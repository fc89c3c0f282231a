// `mtls-edge run --no-envoy` in this process, and the heap it keeps: each "heap" message gets, after a full garbage
// collection, the bytes of heap in use (test/e2e/run-memory.test.ts). Forked with --expose-gc.
import { runCommand } from '../../control-plane/src/commands/run.js';

const configPath = process.argv[2];
process.on('message', (message) => {
  if (message !== 'heap') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run-heap-probe needs --expose-gc');
  gc();
  process.send!(process.memoryUsage().heapUsed);
});
process.exitCode = await runCommand({
  configPath,
  nodeId: undefined,
  startEnvoy: false,
  watch: true,
  envoyConcurrency: undefined,
  drainTimeSeconds: undefined,
  xdsProtocol: 'sotw',
});
process.disconnect?.();
