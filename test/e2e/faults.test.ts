import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startReplica } from '../support/replica-key.js';
import { requireEnvoy, runCli } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createControlChannelPki, type ControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { uniquePath } from '../support/seen.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

interface Status {
  configVersion: string;
  ready: boolean;
  synced: boolean;
  nodes: Array<{ node: string; types: Array<{ typeUrl: string; acked?: string }> }>;
}

/**
 * Production layout: the control plane (`run --no-envoy`) and Envoys started on their own, from `mtls-edge
 * bootstrap`.
 */
for (const xdsProtocol of ['sotw', 'delta'] as const)
  describe(`faults: the control plane and Envoy restart independently (${xdsProtocol} xDS)`, () => {
    let pki: TestPki;
    let upstream: TestUpstream;
    let configPath: string;
    let httpsPort: number;
    let adminUrl: string;
    let controlPlane: ChildProcess | undefined;
    const envoys = new Map<string, { bootstrap: string; adminUrl: string; child?: ChildProcess }>();

    const startControlPlane = () => {
      controlPlane = startReplica(configPath);
    };
    const startEnvoy = (node: string) => {
      const e = envoys.get(node)!;
      e.child = spawn(
        requireEnvoy(),
        [
          '-c',
          e.bootstrap,
          '--disable-hot-restart',
          '--concurrency',
          '1',
          '--drain-time-s',
          '1',
          '--log-level',
          'warning',
        ],
        { stdio: 'ignore' },
      );
    };
    const stop = async (child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    };
    const status = async (): Promise<Status | undefined> => {
      try {
        return (await (await fetch(`${adminUrl}/status`)).json()) as Status;
      } catch {
        return undefined;
      }
    };
    const waitFor = async (what: string, done: (s: Status) => boolean, timeoutMs = 20_000): Promise<Status> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await status();
        if (s && done(s)) return s;
        if (Date.now() > deadline)
          throw new Error(`${what}: not reached in ${timeoutMs} ms; last status ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const bothSynced = (s: Status) =>
      s.synced &&
      s.nodes
        .map((n) => n.node)
        .sort()
        .join() === 'edge-a,edge-b';
    const request = () => httpsGet({ port: httpsPort, servername: HOSTS.z, ca: pki.caA, path: '/f' });
    const config = (to: string) => `
address: 127.0.0.1:${httpsPort}
admin_address: ${new URL(adminUrl).host}
xds_address: 127.0.0.1:${xdsPort}
${channel.yaml}certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.z}
    to: ${to}
    allow_public_unauthenticated_access: true
`;
    let xdsPort: number;
    let channel: ControlChannelPki;

    before(async () => {
      requireEnvoy();
      pki = await createTestPki();
      channel = await createControlChannelPki(pki.dir);
      upstream = await startUpstream('f');
      [httpsPort, xdsPort] = [await freePort(), await freePort()];
      adminUrl = `http://127.0.0.1:${await freePort()}`;
      configPath = join(pki.dir, 'config.yaml');
      writeFileSync(configPath, config(upstream.url));
      for (const node of ['edge-a', 'edge-b']) {
        const envoyAdmin = `127.0.0.1:${await freePort()}`;
        const cert = await channel.node(node);
        const tls = ['--xds-client-cert', cert.certFile, '--xds-client-key', cert.keyFile, '--xds-ca', channel.caFile];
        const res = await runCli([
          'bootstrap',
          '--config',
          configPath,
          '--node-id',
          node,
          '--envoy-admin-address',
          envoyAdmin,
          '--xds-protocol',
          xdsProtocol,
          ...tls,
        ]);
        assert.equal(res.code, 0, res.stderr);
        const bootstrap = join(pki.dir, `bootstrap-${node}.yaml`);
        writeFileSync(bootstrap, res.stdout);
        envoys.set(node, { bootstrap, adminUrl: `http://${envoyAdmin}` });
      }
      startControlPlane();
      for (const node of envoys.keys()) startEnvoy(node);
      await waitFor('both Envoys synced', bothSynced);
    });
    after(async () => {
      await stop(controlPlane);
      for (const e of envoys.values()) await stop(e.child);
      await upstream?.close();
    });

    it('tracks each Envoy by node id, and /synced waits for every one of them', async () => {
      const before = await waitFor('synced', bothSynced);
      const b = envoys.get('edge-b')!.child!;
      b.kill('SIGSTOP'); // edge-b cannot ACK while stopped
      try {
        // A target no earlier test wrote, so that the edit changes the version whatever ran before.
        writeFileSync(configPath, config(`${upstream.url}${uniquePath('/paused')}/`));
        const s = await waitFor(
          'edge-a acknowledged the edit',
          (x) =>
            x.configVersion !== before.configVersion &&
            x.nodes.some((n) => n.node === 'edge-a' && n.types.every((t) => t.acked !== undefined)),
        );
        assert.equal((await fetch(`${adminUrl}/synced`)).status, 503, 'not ready while edge-b has not acknowledged');
        assert.equal((await status())!.synced, false);
        assert.ok(s.nodes.length === 2);
      } finally {
        b.kill('SIGCONT');
      }
      await waitFor('edge-b caught up', bothSynced);
      assert.equal((await fetch(`${adminUrl}/synced`)).status, 200);
    });

    it(
      'SIGKILL of the control plane leaves Envoy serving its last ' +
        'config; on return Envoy reconnects to the same version',
      async () => {
        const before = await waitFor('synced', bothSynced);
        const served = (await request()).body;
        await stop(controlPlane, 'SIGKILL');
        assert.equal((await request()).body, served, 'Envoy serves without its control plane');
        startControlPlane();
        const after = await waitFor('both Envoys back', bothSynced);
        assert.equal(after.configVersion, before.configVersion, 'the same config gives the same version');
        for (const n of after.nodes) for (const t of n.types) assert.ok(t.acked, `${n.node} acknowledged ${t.typeUrl}`);
        assert.equal((await request()).body, served, 'no change in behaviour');
      },
    );

    it('a restarted Envoy reconnects and gets the current config', async () => {
      const before = (await waitFor('synced', bothSynced)).configVersion;
      // An edit of this test's own (a fresh path on the target), so that it is a new version when this test runs alone.
      const marker = uniquePath('/restart');
      writeFileSync(configPath, config(`${upstream.url}${marker}/`));
      const current = await waitFor('edit applied', (s) => s.configVersion !== before && bothSynced(s));
      await stop(envoys.get('edge-a')!.child);
      await stop(envoys.get('edge-b')!.child);
      const down = await waitFor('no Envoy connected', (s) => s.nodes.length === 0);
      assert.equal(down.synced, false);
      startEnvoy('edge-a');
      startEnvoy('edge-b');
      const back = await waitFor('both Envoys synced again', bothSynced);
      assert.equal(back.configVersion, current.configVersion);
      assert.equal((await request()).body, `upstream f ${marker}/f`, 'the restarted Envoys serve the edited config');
    });
  });
