import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { readBootstrapTemplate, renderBootstrap } from '../../control-plane/src/runtime/bootstrap.js';
import { requireEnvoy, runCli } from '../support/edge.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';

const run = promisify(execFile);

describe('Envoy bootstrap', () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
  });

  it('renders every placeholder and points the ADS cluster at the control plane', () => {
    const text = renderBootstrap(readBootstrapTemplate(), { nodeId: 'edge-1', xds: { host: 'control-plane', port: 18000 }, envoyAdmin: { host: '127.0.0.1', port: 9901 } });
    assert.doesNotMatch(text, /\$\{/);
    const doc = parse(text) as { node: { id: string }; static_resources: { clusters: Array<{ type: string; load_assignment: unknown }> }; admin: unknown };
    assert.equal(doc.node.id, 'edge-1');
    const xds = doc.static_resources.clusters[0]!;
    assert.equal(xds.type, 'STRICT_DNS', 'a host name needs DNS');
    assert.match(JSON.stringify(xds.load_assignment), /"address":"control-plane","port_value":18000/);
    assert.match(JSON.stringify(doc.admin), /"address":"127.0.0.1","port_value":9901/);
  });

  it('refuses a template with a placeholder it does not know', () => {
    assert.throws(() => renderBootstrap('id: ${NOPE}', { nodeId: 'n', xds: { host: '127.0.0.1', port: 1 }, envoyAdmin: { host: '127.0.0.1', port: 2 } }), /unknown placeholder \$\{NOPE\}/);
  });

  it('`mtls-edge bootstrap` prints a bootstrap that Envoy itself validates', async () => {
    const envoy = requireEnvoy();
    const config = join(pki.dir, 'config.yaml');
    writeFileSync(config, `certificate_file: server.pem\ncertificate_key_file: server-key.pem\nxds_address: 127.0.0.1:18123\nroutes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`);
    const res = await runCli(['bootstrap', '--config', config, '--node-id', 'prod-edge-7', '--xds-host', 'xds.internal']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /id: "prod-edge-7"/);
    assert.match(res.stdout, /address: "xds.internal", port_value: 18123/);
    const file = join(pki.dir, 'bootstrap.yaml');
    writeFileSync(file, res.stdout);
    const { stdout, stderr } = await run(envoy, ['--mode', 'validate', '-c', file, '--disable-hot-restart', '--log-level', 'error']);
    assert.match(stdout + stderr, /configuration '.*bootstrap\.yaml' OK/);
  });
});
