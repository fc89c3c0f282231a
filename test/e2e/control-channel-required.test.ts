import { spawn } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPLICA_ENV, replicaEnv } from '../support/replica-key.js';
import { CLI, runCli } from '../support/edge.js';
import { createTestPki, HOSTS } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { createControlChannelPki } from '../support/control-channel-pki.js';

describe('--no-envoy without the control channel certificates', () => {
  it('does not start, and says which keys to set', async () => {
    const pki = await createTestPki();
    const file = join(pki.dir, 'plain.yaml');
    writeFileSync(
      file,
      `admin_address: 127.0.0.1:${await freePort()}\nxds_address: 127.0.0.1:${await freePort()}\ncertificate_file: server.pem\ncertificate_key_file: server-key.pem\nroutes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
    );
    const res = await runCli(['run', '--config', file, '--no-envoy'], REPLICA_ENV, 10_000);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /--no-envoy serves Envoys over the network, which needs mutual TLS on the control channel: set xds_certificate_file, xds_certificate_key_file and xds_client_ca_file/,
    );
  });
});

describe('--no-envoy and the signing key', () => {
  it('without a key it does not start and says how to make one; with one it is ready with no Envoy', async () => {
    const pki = await createTestPki();
    const channel = await createControlChannelPki(pki.dir);
    const file = join(pki.dir, 'no-key.yaml');
    const admin = await freePort();
    writeFileSync(
      file,
      `admin_address: 127.0.0.1:${admin}\nxds_address: 127.0.0.1:${await freePort()}\n${channel.yaml}` +
        `certificate_file: server.pem\ncertificate_key_file: server-key.pem\nroutes:\n  - from: https://${HOSTS.z}\n` +
        `    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
    );
    const res = await runCli(['run', '--config', file, '--no-envoy'], {}, 10_000);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /signing_key: set signing_key, SIGNING_KEY or signing_key_file/);
    assert.match(res.stderr, /mtls-edge certs signing-key/);

    // The same config with the key starts; /readyz (a readiness probe) never waits for an Envoy, /synced does.
    const child = spawn(process.execPath, [CLI, 'run', '--config', file, '--no-envoy', '--no-watch'], {
      stdio: 'ignore',
      env: replicaEnv(),
    });
    try {
      const deadline = Date.now() + 15_000;
      let ready = 0;
      while (ready !== 200 && Date.now() < deadline) {
        ready = await fetch(`http://127.0.0.1:${admin}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ready, 200, 'ready with a snapshot and the xDS port open');
      const synced = await fetch(`http://127.0.0.1:${admin}/synced`);
      assert.equal(synced.status, 503);
      assert.deepEqual(((await synced.json()) as { envoys: number }).envoys, 0);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
