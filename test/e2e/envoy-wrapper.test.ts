// Issue 13 (1.5), where no preStop hook exists (docker compose): `mtls-edge envoy -- ARGS` runs a real Envoy and
// turns SIGTERM into fail health, drain, stop.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { healthListener } from '../../control-plane/src/runtime/bootstrap-listeners.js';
import { CLI, requireEnvoy } from '../support/edge.js';
import { freePort } from '../support/ports.js';

describe('mtls-edge envoy: SIGTERM drains Envoy before stopping it', () => {
  it(
    '/healthz turns 503 while Envoy still runs, then Envoy exits and the wrapper exits 0',
    { timeout: 60_000 },
    async () => {
      requireEnvoy();
      const [admin, health] = [await freePort(), await freePort()];
      const dir = mkdtempSync(join(tmpdir(), 'envoy-wrapper-'));
      const bootstrap = join(dir, 'bootstrap.yaml');
      // A static Envoy: its admin API and the health listener the edge's bootstraps carry; no control plane needed.
      writeFileSync(
        bootstrap,
        stringify({
          admin: { address: { socket_address: { address: '127.0.0.1', port_value: admin } } },
          static_resources: { listeners: [healthListener({ host: '127.0.0.1', port: health })] },
        }),
      );
      const drainArgs = ['--envoy-admin-address', `127.0.0.1:${admin}`, '--seconds', '1', '--drain-time-s', '1'];
      const envoyArgs = ['-c', bootstrap, '--disable-hot-restart', '--concurrency', '1', '--log-level', 'warning'];
      const wrapper = spawn(process.execPath, [CLI, 'envoy', ...drainArgs, '--', ...envoyArgs], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      wrapper.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => wrapper.once('exit', resolve));
      const healthz = async () =>
        (await fetch(`http://127.0.0.1:${health}/healthz`).catch(() => undefined))?.status ?? 0;
      try {
        const deadline = Date.now() + 20_000;
        while ((await healthz()) !== 200) {
          assert.ok(Date.now() < deadline, `Envoy never answered /healthz: ${stderr}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        wrapper.kill('SIGTERM');
        const seen: number[] = [];
        let code: number | null | undefined;
        void exited.then((c) => (code = c));
        while (code === undefined) {
          const status = await healthz();
          if (seen.at(-1) !== status) seen.push(status);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(code, 0, stderr);
        // While the wrapper lived (Envoy with it): 503 came, for the announce second, before anything else.
        assert.equal(
          seen.find((s) => s !== 200),
          503,
          `answers while it stopped: ${seen.join(', ')}`,
        );
        assert.equal(await healthz(), 0, 'Envoy is gone');
        assert.match(stderr, /health check failing; waiting 1 s for balancers/);
        assert.match(stderr, /drained: Envoy can be stopped/);
      } finally {
        if (wrapper.exitCode === null) wrapper.kill('SIGKILL');
        await exited;
      }
    },
  );
});
