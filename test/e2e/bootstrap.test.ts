import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { readBootstrapTemplate, renderBootstrap, type XdsChannel } from '../../control-plane/src/runtime/bootstrap.js';
import { requireEnvoy, runCli } from '../support/edge.js';
import { createControlChannelPki, type ControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';

const run = promisify(execFile);
const tls = (host: string): XdsChannel => ({
  kind: 'tls',
  address: { host, port: 18000 },
  serverName: host,
  caFile: '/certs/cp-ca.pem',
  certFile: '/certs/envoy.pem',
  keyFile: '/certs/envoy-key.pem',
});

interface Cluster {
  type: string;
  load_assignment: unknown;
  transport_socket?: {
    typed_config: {
      sni: string;
      common_tls_context: { alpn_protocols: string[]; tls_certificates: unknown[]; validation_context: unknown };
    };
  };
}

describe('Envoy bootstrap', () => {
  let pki: TestPki;
  let channel: ControlChannelPki;
  before(async () => {
    pki = await createTestPki();
    channel = await createControlChannelPki(pki.dir);
  });

  it('renders every placeholder and points the ADS cluster at the control plane over mutual TLS', () => {
    const text = renderBootstrap(readBootstrapTemplate(), {
      nodeId: 'edge-1',
      xds: tls('control-plane'),
      envoyAdmin: { host: '127.0.0.1', port: 9901 },
    });
    assert.doesNotMatch(text, /\$\{/);
    const doc = parse(text) as { node: { id: string }; static_resources: { clusters: Cluster[] }; admin: unknown };
    assert.equal(doc.node.id, 'edge-1');
    const xds = doc.static_resources.clusters[0]!;
    assert.equal(xds.type, 'STRICT_DNS', 'a host name needs DNS');
    assert.match(JSON.stringify(xds.load_assignment), /"address":"control-plane","port_value":18000/);
    assert.match(JSON.stringify(doc.admin), /"address":"127.0.0.1","port_value":9901/);
    const context = xds.transport_socket!.typed_config;
    assert.equal(context.sni, 'control-plane');
    assert.deepEqual(context.common_tls_context.alpn_protocols, ['h2'], 'gRPC needs HTTP/2 in ALPN');
    assert.match(
      JSON.stringify(context.common_tls_context.tls_certificates),
      /"filename":"\/certs\/envoy.pem".*"filename":"\/certs\/envoy-key.pem"/,
    );
    assert.match(
      JSON.stringify(context.common_tls_context.validation_context),
      /"trusted_ca":\{"filename":"\/certs\/cp-ca.pem"\}.*"san_type":"DNS","matcher":\{"exact":"control-plane"\}/,
    );
  });

  it('an IP address is checked as an IP SAN; the private socket of `run` has no TLS and a pipe address', () => {
    const ip = parse(
      renderBootstrap(readBootstrapTemplate(), {
        nodeId: 'n',
        xds: tls('10.0.0.5'),
        envoyAdmin: { host: '127.0.0.1', port: 9901 },
      }),
    ) as { static_resources: { clusters: Cluster[] } };
    assert.equal(ip.static_resources.clusters[0]!.type, 'STATIC');
    assert.match(
      JSON.stringify(ip.static_resources.clusters[0]!.transport_socket),
      /"san_type":"IP_ADDRESS","matcher":\{"exact":"10.0.0.5"\}/,
    );
    const local = parse(
      renderBootstrap(readBootstrapTemplate(), {
        nodeId: 'n',
        xds: { kind: 'private-socket', path: '/tmp/x/xds.sock' },
        envoyAdmin: { host: '127.0.0.1', port: 9901 },
      }),
    ) as { static_resources: { clusters: Cluster[] } };
    const cluster = local.static_resources.clusters[0]!;
    assert.equal(cluster.transport_socket, undefined);
    assert.match(JSON.stringify(cluster.load_assignment), /"address":\{"pipe":\{"path":"\/tmp\/x\/xds.sock"\}\}/);
  });

  it('refuses a template with a placeholder it does not know', () => {
    assert.throws(
      () =>
        renderBootstrap('id: ${NOPE}', {
          nodeId: 'n',
          xds: tls('127.0.0.1'),
          envoyAdmin: { host: '127.0.0.1', port: 2 },
        }),
      /unknown placeholder \$\{NOPE\}/,
    );
  });

  it(
    '`mtls-edge bootstrap` prints a bootstrap that Envoy itself ' +
      'validates, and refuses one the control plane would refuse',
    async () => {
      const envoy = requireEnvoy();
      const config = join(pki.dir, 'config.yaml');
      writeFileSync(
        config,
        `certificate_file: server.pem\ncertificate_key_file: server-key.pem\nxds_address: 0.0.0.0:18123\n${channel.yaml}routes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
      );
      const edge7 = await channel.node('prod-edge-7');
      const files = [
        '--xds-client-cert',
        edge7.certFile,
        '--xds-client-key',
        edge7.keyFile,
        '--xds-ca',
        channel.caFile,
      ];
      const res = await runCli([
        'bootstrap',
        '--config',
        config,
        '--node-id',
        'prod-edge-7',
        '--xds-host',
        'xds.internal',
        ...files,
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /id: "prod-edge-7"/);
      assert.match(res.stdout, /"address":"xds.internal","port_value":18123/);
      const file = join(pki.dir, 'bootstrap.yaml');
      writeFileSync(file, res.stdout);
      const { stdout, stderr } = await run(envoy, [
        '--mode',
        'validate',
        '-c',
        file,
        '--disable-hot-restart',
        '--log-level',
        'error',
      ]);
      assert.match(stdout + stderr, /configuration '.*bootstrap\.yaml' OK/);

      // Several replicas: one endpoint each (HOST or HOST:PORT), and Envoy accepts it.
      const hosts = ['--xds-host', 'xds-a.internal', '--xds-host', '10.0.0.7:18200,xds-c.internal:18300'];
      const replicas = await runCli(['bootstrap', '--config', config, '--node-id', 'prod-edge-7', ...hosts, ...files]);
      assert.equal(replicas.code, 0, replicas.stderr);
      const endpoints = [...replicas.stdout.matchAll(/"address":"([^"]+)","port_value":(\d+)/g)].map((m) => m.slice(1));
      assert.deepEqual(endpoints, [
        ['xds-a.internal', '18123'],
        ['10.0.0.7', '18200'],
        ['xds-c.internal', '18300'],
      ]);
      assert.match(replicas.stdout, /type: STRICT_DNS/, 'names among the hosts: DNS');
      writeFileSync(file, replicas.stdout);
      const validated = await run(envoy, ['--mode', 'validate', '-c', file, '--disable-hot-restart']);
      assert.match(validated.stdout + validated.stderr, /configuration '.*bootstrap\.yaml' OK/);
      for (const bad of ['a b', 'xds-a.internal,', 'xds-a.internal,,xds-b.internal', '', 'host:99999', '::1']) {
        const refused = await runCli([
          'bootstrap',
          '--config',
          config,
          '--node-id',
          'prod-edge-7',
          '--xds-host',
          bad,
          ...files,
        ]);
        assert.equal(refused.code, 1, `--xds-host ${JSON.stringify(bad)} is refused`);
        assert.match(refused.stderr, /--xds-host: expected HOST, HOST:PORT or \[IPv6\]:PORT/);
      }
      // Kept as written: "localhost" is the DNS name `certs control-plane localhost` puts in the certificate.
      const local = await runCli([
        'bootstrap',
        '--config',
        config,
        '--node-id',
        'prod-edge-7',
        '--xds-host',
        'localhost:18200,[::1]',
        ...files,
      ]);
      assert.equal(local.code, 0, local.stderr);
      assert.match(local.stdout, /"address":"localhost","port_value":18200.*"address":"::1","port_value":18123/);
      assert.match(local.stdout, /sni: "localhost"/);
      assert.match(local.stdout, /san_type: DNS/);

      const wrongNode = await runCli(['bootstrap', '--config', config, '--node-id', 'prod-edge-8', ...files]);
      assert.equal(wrongNode.code, 1);
      assert.match(
        wrongNode.stderr,
        /would refuse this Envoy: node id "prod-edge-8" is not the one the client certificate names node "prod-edge-7"/,
      );
      const noFiles = await runCli(['bootstrap', '--config', config, '--node-id', 'prod-edge-7']);
      assert.equal(noFiles.code, 1);
      assert.match(noFiles.stderr, /--xds-client-cert FILE and --xds-client-key FILE .*--xds-ca FILE/);
    },
  );

  it('`mtls-edge bootstrap` without control channel certificates says which keys to set', async () => {
    const config = join(pki.dir, 'config-plain.yaml');
    writeFileSync(
      config,
      `certificate_file: server.pem\ncertificate_key_file: server-key.pem\nroutes:\n  - from: https://${HOSTS.z}\n    to: http://127.0.0.1:9\n    allow_public_unauthenticated_access: true\n`,
    );
    const res = await runCli([
      'bootstrap',
      '--config',
      config,
      '--node-id',
      'e',
      '--xds-client-cert',
      'a',
      '--xds-client-key',
      'b',
      '--xds-ca',
      'c',
    ]);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /only with mutual TLS: set xds_certificate_file, xds_certificate_key_file and xds_client_ca_file/,
    );
  });
});
