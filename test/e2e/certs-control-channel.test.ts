import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, requireEnvoy, runCli } from '../support/edge.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';

/**
 * The production steps with this project's commands only: certs control-plane, certs envoy, certs signing-key,
 * bootstrap, run --no-envoy.
 */
describe('mtls-edge certs control-plane / envoy, then a real Envoy on the control channel', () => {
  let dir: string;
  let pki: TestPki;
  const children: ChildProcess[] = [];
  const certs = (args: string[]) => runCli(['certs', ...args, '--dir', join(dir, 'certs')]);

  before(async () => {
    requireEnvoy();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-cp-certs-'));
    pki = await createTestPki();
  });
  after(async () => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  });

  it('certs envoy needs the control-plane CA first; names are checked', async () => {
    const early = await certs(['envoy', 'edge-1']);
    assert.equal(early.code, 2);
    assert.match(early.stderr, /no control-plane CA .*run `mtls-edge certs control-plane HOST…` first/);
    const badHost = await certs(['control-plane', 'bad host']);
    assert.match(badHost.stderr, /not a host name or IP address/);
    const cp = await certs(['control-plane', 'localhost', '127.0.0.1']);
    assert.equal(cp.code, 0, cp.stderr);
    assert.match(
      cp.stdout,
      /xds_certificate_file: .*control-plane\.pem\n {2}xds_certificate_key_file: .*control-plane-key\.pem\n {2}xds_client_ca_file: .*control-plane-ca\.pem/,
    );
    for (const key of ['control-plane-ca-key.pem', 'control-plane-key.pem'])
      assert.equal(statSync(join(dir, 'certs', key)).mode & 0o777, 0o600, key);
    for (const bad of ['edge 1', 'a:b', '../x', ''])
      assert.equal((await certs(['envoy', bad])).code, 2, JSON.stringify(bad));
    assert.equal((await certs(['envoy'])).code, 2);
  });

  it('certs envoy NODE_ID / --fleet NAME name the node in a URI SAN, with the clientAuth usage', async () => {
    const one = await certs(['envoy', 'edge-1']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /urn:mtls-edge:node:edge-1/);
    assert.match(
      one.stdout,
      /mtls-edge bootstrap --config FILE --node-id edge-1 --xds-client-cert .*envoy-edge-1\.pem --xds-client-key .*envoy-edge-1-key\.pem --xds-ca .*control-plane-ca\.pem/,
    );
    const cert = new X509Certificate(readFileSync(join(dir, 'certs', 'envoy-edge-1.pem')));
    assert.match(cert.subjectAltName ?? '', /^URI:urn:mtls-edge:node:edge-1$/);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(statSync(join(dir, 'certs', 'envoy-edge-1-key.pem')).mode & 0o777, 0o600);
    const fleet = await certs(['envoy', '--fleet', 'blue']);
    assert.equal(fleet.code, 0, fleet.stderr);
    assert.match(
      new X509Certificate(readFileSync(join(dir, 'certs', 'envoy-fleet-blue.pem'))).subjectAltName ?? '',
      /URI:urn:mtls-edge:fleet:blue/,
    );
    assert.match(fleet.stdout, /xds_node_ids/);
    const again = await certs(['control-plane', 'localhost']);
    assert.equal(again.code, 2, 'refuses to overwrite without --force');
    const forced = await certs(['control-plane', 'localhost', '127.0.0.1', '--force']);
    assert.match(forced.stdout, /reusing the CA/, 'a new CA would orphan every Envoy certificate');
  });

  it('certs signing-key writes a P-256 key (0600) once, reuses it, and says how every replica gets it', async () => {
    const made = await certs(['signing-key']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /wrote .*signing-key\.pem/);
    assert.match(made.stdout, /signing_key_file: .*signing-key\.pem/);
    assert.match(made.stdout, /SIGNING_KEY=\$\(base64 -w0 .*signing-key\.pem\)/);
    const path = join(dir, 'certs', 'signing-key.pem');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const key = createPrivateKey(readFileSync(path, 'utf8'));
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const again = await certs(['signing-key']);
    assert.match(again.stdout, /reusing the signing key/);
    assert.equal(readFileSync(path, 'utf8'), key.export({ type: 'pkcs8', format: 'pem' }).toString(), 'unchanged');
    assert.equal((await certs(['signing-key', 'extra'])).code, 2);
  });

  it('Envoys with those certificates (one per node, and a fleet member) get their config over mutual TLS', async () => {
    const c = join(dir, 'certs');
    const [xdsPort, adminPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      `address: 127.0.0.1:${httpsPort}\nadmin_address: 127.0.0.1:${adminPort}\nxds_address: 0.0.0.0:${xdsPort}\nxds_certificate_file: ${c}/control-plane.pem\nxds_certificate_key_file: ${c}/control-plane-key.pem\nxds_client_ca_file: ${c}/control-plane-ca.pem\nxds_node_ids: [edge-1, blue-1]\nsigning_key_file: ${c}/signing-key.pem\ncertificate_file: ${pki.dir}/server.pem\ncertificate_key_file: ${pki.dir}/server-key.pem\nroutes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
    );
    children.push(spawn(process.execPath, [CLI, 'run', '--config', configPath, '--no-envoy'], { stdio: 'ignore' }));
    for (const [node, base] of [
      ['edge-1', 'envoy-edge-1'],
      ['blue-1', 'envoy-fleet-blue'],
    ] as const) {
      const res = await runCli([
        'bootstrap',
        '--config',
        configPath,
        '--node-id',
        node,
        '--xds-host',
        '127.0.0.1',
        '--envoy-admin-address',
        `127.0.0.1:${await freePort()}`,
        '--xds-client-cert',
        `${c}/${base}.pem`,
        '--xds-client-key',
        `${c}/${base}-key.pem`,
        '--xds-ca',
        `${c}/control-plane-ca.pem`,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const file = join(dir, `bootstrap-${node}.yaml`);
      writeFileSync(file, res.stdout);
      children.push(
        spawn(requireEnvoy(), ['-c', file, '--disable-hot-restart', '--concurrency', '1', '--log-level', 'warning'], {
          stdio: 'ignore',
        }),
      );
    }
    const deadline = Date.now() + 30_000;
    let nodes: string[] = [];
    while (Date.now() < deadline) {
      const s = (await fetch(`http://127.0.0.1:${adminPort}/status`).then(
        (r) => r.json(),
        () => undefined,
      )) as { ready?: boolean; synced?: boolean; nodes?: Array<{ node: string }> } | undefined;
      nodes = (s?.nodes ?? []).map((n) => n.node).sort();
      if (s?.synced && nodes.join() === 'blue-1,edge-1') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(nodes, ['blue-1', 'edge-1']);
  });
});
