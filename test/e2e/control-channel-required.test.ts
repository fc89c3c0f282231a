import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../support/edge.js';
import { createTestPki, HOSTS } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';

describe('--no-envoy without the control channel certificates', () => {
  it('does not start, and says which keys to set', async () => {
    const pki = await createTestPki();
    const file = join(pki.dir, 'plain.yaml');
    writeFileSync(
      file,
      `admin_address: 127.0.0.1:${await freePort()}\nxds_address: 127.0.0.1:${await freePort()}\ncertificate_file: server.pem\ncertificate_key_file: server-key.pem\nroutes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
    );
    const res = await runCli(['run', '--config', file, '--no-envoy'], {}, 10_000);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /--no-envoy serves Envoys over the network, which needs mutual TLS on the control channel: set xds_certificate_file, xds_certificate_key_file and xds_client_ca_file/,
    );
  });
});
