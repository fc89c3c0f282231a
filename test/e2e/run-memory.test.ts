// What `run` keeps of a config once an edit replaced it: nothing. (Until issue 14, the config it started with, with
// its translation and first snapshot, stayed for the life of the process: ~20 MiB at 10,000 routes.)
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPLICA_ENV } from '../support/replica-key.js';
import { freePort } from '../support/ports.js';
import { createControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki } from '../support/pki-fixture.js';

const PROBE = fileURLToPath(new URL('../support/run-heap-probe.js', import.meta.url));
const MiB = 2 ** 20;

interface Probe {
  child: ChildProcess;
  status: () => Promise<{ configVersion: string | null } | undefined>;
  heapUsed: () => Promise<number>;
  stop: () => Promise<void>;
}

function startProbe(configPath: string, adminPort: number): Probe {
  const child = fork(PROBE, [configPath], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, ...REPLICA_ENV, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  return {
    child,
    status: async () => {
      try {
        return (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as { configVersion: string | null };
      } catch {
        return undefined;
      }
    },
    heapUsed: async () => {
      child.send('heap');
      const answer = once(child, 'message') as Promise<[number]>;
      const died = exited.then(() => assert.fail(`the run exited (code ${child.exitCode}) before it answered`));
      const [bytes] = await Promise.race([answer, died]);
      return bytes;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function until<T>(what: string, get: () => Promise<T | undefined>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await get();
    if (v !== undefined && ok(v)) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('after an edit, run keeps nothing of the config it started with', async () => {
  const pki = await createTestPki();
  const channel = await createControlChannelPki(pki.dir);
  const configYaml = (routes: number, adminPort: number, xdsPort: number) =>
    [
      `admin_address: 127.0.0.1:${adminPort}`,
      `xds_address: 127.0.0.1:${xdsPort}`,
      channel.yaml.trimEnd(),
      'certificate_file: server.pem',
      'certificate_key_file: server-key.pem',
      'routes:',
      ...Array.from({ length: routes }, (_, i) => [
        `  - from: https://r${i}.memory.test`,
        `    to: http://127.0.0.1:${8000 + (i % 50)}`,
        '    allow_public_unauthenticated_access: true',
      ]).flat(),
    ].join('\n') + '\n';
  const write = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file); // an editor's save
  };

  // The heap of a run that only ever had the small config.
  const smallPorts = [await freePort(), await freePort()] as const;
  const smallFile = join(pki.dir, 'memory-small.yaml');
  write(smallFile, configYaml(10, ...smallPorts));
  const small = startProbe(smallFile, smallPorts[0]);
  let smallHeap: number;
  try {
    await until('the small config', small.status, (s) => s.configVersion !== null);
    smallHeap = await small.heapUsed();
  } finally {
    await small.stop();
  }

  // A run that started with 8,000 routes, then was edited down to the same 10.
  const ports = [await freePort(), await freePort()] as const;
  const file = join(pki.dir, 'memory.yaml');
  write(file, configYaml(8000, ...ports));
  const edited = startProbe(file, ports[0]);
  try {
    const first = await until('the large config', edited.status, (s) => s.configVersion !== null);
    const largeHeap = await edited.heapUsed();
    write(file, configYaml(10, ...ports));
    await until('the edit', edited.status, (s) => s.configVersion !== null && s.configVersion !== first.configVersion);
    const afterEdit = await edited.heapUsed();
    const large = (largeHeap - smallHeap) / MiB;
    const kept = (afterEdit - smallHeap) / MiB;
    assert.ok(large > 2, `8,000 routes should take some room in the heap: ${large.toFixed(1)} MiB`);
    // What is left is mostly code compiled for the large config (the run that only had the small one compiled less).
    assert.ok(
      kept < large / 2,
      `after the edit the heap keeps ${kept.toFixed(1)} MiB more than a run that only had the small config ` +
        `(the large config took ${large.toFixed(1)} MiB)`,
    );
  } finally {
    await edited.stop();
  }
});
