// Issue 13 (1.6): `run` is killed (SIGKILL) and its Envoy keeps serving; `run` started again with the same config
// adopts that Envoy (which reconnects to the same private socket), applies edits to it, and stops it cleanly.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CLI, startEdge, type RunningEdge } from '../support/edge.js';
import { waitForStatus, type Status } from './control-channel-fixture.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { steadyLoad, type LoadTarget, type RunningLoad } from '../support/steady-load.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { isAlive } from '../../control-plane/src/runtime/envoy-home.js';

type RunStatus = Status & { envoyPid: number | null; envoyAdopted: boolean };

const yaml = (upstream: TestUpstream, edit: string) => `
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.z}
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
    set_request_headers:
      x-edit: "${edit}"
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    tls_downstream_client_ca_file: ca-a.pem
    policy:
      allow:
        or:
          - email:
              is: alice@example.com
`;

describe('run killed and started again: the Envoy that kept serving is adopted, and no request fails', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let edge: RunningEdge;
  let second: ChildProcess | undefined;
  let envoyPid: number | undefined;
  let output = '';

  before(async () => {
    pki = await createTestPki();
    upstream = await startUpstream('restart');
    edge = await startEdge({ dir: pki.dir, yaml: yaml(upstream, '1') });
  });
  after(async () => {
    if (second && second.exitCode === null) {
      second.kill('SIGTERM');
      await new Promise((r) => second!.once('exit', r));
    }
    await edge?.stop();
    // Its own process group: if the test failed between the kill and the second run, nothing else stops it.
    if (envoyPid !== undefined && isAlive(envoyPid)) process.kill(envoyPid, 'SIGKILL');
    await upstream?.close();
  });

  it('SIGKILL, run again: same Envoy, an edit applies, /status says adopted; a clean stop ends it', async () => {
    const target = (host: string, path: string): LoadTarget => ({
      port: edge.httpsPort,
      host,
      path,
      ca: pki.caA,
      ...pki.clientA,
      expect: (status, body) => status === 200 && body.startsWith('upstream restart'),
    });
    const loads: RunningLoad[] = (['h1', 'h2'] as const).flatMap((p) => [
      steadyLoad(target(HOSTS.z, `/public-${p}`), p),
      steadyLoad(target(HOSTS.x, `/policy-${p}`), p),
    ]);
    let status: RunStatus;
    try {
      await new Promise((r) => setTimeout(r, 500));
      const pid = (await edge.status()).envoyPid!;
      envoyPid = pid;
      assert.equal(await edge.stop('SIGKILL'), null, 'killed');
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(isAlive(pid), 'Envoy serves on without its control plane');
      second = spawn(
        process.execPath,
        [CLI, 'run', '--config', edge.configPath, '--envoy-concurrency', '1', '--drain-time-s', '1'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      for (const s of [second.stdout, second.stderr]) s?.on('data', (d: Buffer) => (output += d.toString()));
      status = await waitSynced(edge.adminUrl, second);
      assert.equal(status.envoyPid, pid, 'the same Envoy');
      assert.equal(status.envoyAdopted, true);
      edge.writeConfig(yaml(upstream, '2'));
      await waitForStatus(
        edge.adminUrl,
        'the edit synced',
        (s) => s.configVersion !== status.configVersion && s.synced,
        20_000,
      );
      // Requests already routed when the ACK came may carry the old header: count from a little later.
      await new Promise((r) => setTimeout(r, 200));
      const mark = upstream.seen.length;
      await new Promise((r) => setTimeout(r, 500));
      const edited = upstream.seen.slice(mark).filter((s) => s.url.startsWith('/public-'));
      assert.ok(edited.length > 0, 'requests after the edit');
      for (const s of edited) assert.equal(s.headers['x-edit'], '2', 'the edit reached the adopted Envoy');
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }
    for (const { tally } of loads) {
      assert.deepEqual(tally.failed, []);
      assert.ok(tally.ok > 20, `progress: ${tally.ok}`);
    }
    assert.match(output, /adopted the Envoy a previous run left serving/);
    second.kill('SIGTERM');
    assert.equal(await new Promise((r) => second!.once('exit', r)), 0);
    assert.equal(isAlive(envoyPid), false, 'a clean stop stops the adopted Envoy too');
  });
});

/** /status once this run is synced (its Envoy ACKed everything); a run that exited instead fails at once. */
async function waitSynced(adminUrl: string, child: ChildProcess): Promise<RunStatus> {
  const status = await waitForStatus(
    adminUrl,
    'the second run synced',
    (s) => {
      if (child.exitCode !== null) throw new Error(`run exited with ${child.exitCode}`);
      return s.synced;
    },
    20_000,
  );
  return status as RunStatus;
}
