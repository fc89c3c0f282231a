import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertError,
  base64,
  CONFIG_DIR,
  expectErrors,
  expectOk,
  loadPems,
  run,
  SERVER_CERT_LINES,
  standardFiles,
  yaml,
  type Pems,
} from './fixture.js';
import { createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';

let pems: Pems;
let clientOnly: { cert: string; key: string };
before(async () => {
  pems = await loadPems();
  const ca = await createRootCa({ commonName: 'x' });
  const c = await issueClientCertificate(ca, { commonName: 'not a server', extendedKeyUsage: 'clientAuth' });
  clientOnly = { cert: c.certPem, key: c.keyPem };
});
const files = (extra: Record<string, string> = {}) => ({ ...standardFiles(pems), ...extra });
const ROUTE = yaml`
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:1
      allow_public_unauthenticated_access: true
`;
const CHANNEL =
  'xds_certificate_file: server.pem\nxds_certificate_key_file: server-key.pem\nxds_client_ca_file: ca.pem\n';

describe('the control channel (xds_certificate_file, xds_certificate_key_file, xds_client_ca_file)', () => {
  test('all three give mutual TLS; the default loopback address needs none', () => {
    const plain = expectOk(run(SERVER_CERT_LINES + ROUTE, { files: files() }));
    assert.equal(plain.xdsTls, undefined);
    assert.equal(plain.xdsAddressConfigured, false);
    const tls = expectOk(run(SERVER_CERT_LINES + 'xds_address: 0.0.0.0:18000\n' + CHANNEL + ROUTE, { files: files() }));
    assert.equal(tls.xdsAddressConfigured, true);
    assert.match(tls.xdsTls?.certPem ?? '', /BEGIN CERTIFICATE/);
    assert.match(tls.xdsTls?.keyPem ?? '', /BEGIN PRIVATE KEY/);
    assert.equal(tls.xdsTls?.clientCaPem.trim(), pems.ca.trim());
    assert.deepEqual(tls.xdsTls?.nodeIds, []);
  });

  for (const address of ['0.0.0.0:18000', ':18000', '10.1.2.3:18000', '[::]:18000', 'control-plane:18000']) {
    test(`xds_address ${address} without TLS is an error at its line that names the keys to set`, () => {
      const errors = expectErrors(run(SERVER_CERT_LINES + `xds_address: "${address}"\n` + ROUTE, { files: files() }));
      assertError(errors, {
        key: 'xds_address',
        line: 3,
        message:
          /reachable from other machines.*set xds_certificate_file, xds_certificate_key_file and xds_client_ca_file.*mtls-edge certs control-plane/,
      });
    });
  }

  for (const address of ['127.0.0.1:18000', '127.9.9.9:1', '[::1]:18000', 'localhost:18000']) {
    test(`xds_address ${address} (loopback) without TLS is allowed`, () => {
      expectOk(run(SERVER_CERT_LINES + `xds_address: "${address}"\n` + ROUTE, { files: files() }));
    });
  }

  test('part of the set names what is missing', () => {
    const errors = expectErrors(
      run(SERVER_CERT_LINES + 'xds_certificate_file: server.pem\n' + ROUTE, { files: files() }),
    );
    assertError(errors, {
      key: 'xds_certificate_file',
      line: 3,
      message: /set xds_certificate_key_file and xds_client_ca_file too/,
    });
  });

  test('a key that does not match, a client-only certificate, a non-CA as client CA, an unreadable file', () => {
    const mismatch = expectErrors(
      run(SERVER_CERT_LINES + CHANNEL.replace('server-key.pem', 'other-key.pem') + ROUTE, { files: files() }),
    );
    assertError(mismatch, {
      key: 'xds_certificate_key_file',
      line: 4,
      message: /does not match the certificate in xds_certificate_file \(server.pem\)/,
    });
    const clientCert = expectErrors(
      run(
        SERVER_CERT_LINES +
          CHANNEL.replace('server.pem', 'client-only.pem').replace('server-key.pem', 'client-only-key.pem') +
          ROUTE,
        {
          files: files({
            [`${CONFIG_DIR}/client-only.pem`]: clientOnly.cert,
            [`${CONFIG_DIR}/client-only-key.pem`]: clientOnly.key,
          }),
        },
      ),
    );
    assertError(clientCert, {
      key: 'xds_certificate_file',
      line: 3,
      message: /may not be used by a TLS server \(its extended key usage lacks serverAuth\)/,
    });
    const leafCa = expectErrors(
      run(SERVER_CERT_LINES + CHANNEL.replace('xds_client_ca_file: ca.pem', 'xds_client_ca_file: client.pem') + ROUTE, {
        files: files(),
      }),
    );
    assertError(leafCa, { key: 'xds_client_ca_file', line: 5, message: /is not a CA/ });
    const missing = expectErrors(
      run(SERVER_CERT_LINES + CHANNEL.replace('ca.pem', 'nope.pem') + ROUTE, { files: files() }),
    );
    assertError(missing, {
      key: 'xds_client_ca_file',
      line: 5,
      message: /cannot read file "\/etc\/edge\/nope.pem": ENOENT/,
    });
  });

  test("the control channel's CA must not also issue users' certificates (global or a route's client CA)", () => {
    const global = expectErrors(
      run(SERVER_CERT_LINES + 'client_ca_file: ca.pem\n' + CHANNEL + ROUTE, { files: files() }),
    );
    assertError(global, {
      key: 'xds_client_ca_file',
      line: 6,
      message:
        /shares a CA with client_ca_file \(ca.pem\), which issues users' certificates: any user could then open the control channel/,
    });
    const perRoute = expectErrors(
      run(SERVER_CERT_LINES + CHANNEL + ROUTE + '    tls_downstream_client_ca_file: ca.pem\n', { files: files() }),
    );
    assertError(perRoute, {
      key: 'xds_client_ca_file',
      line: 5,
      message: /shares a CA with .*tls_downstream_client_ca_file/,
    });
    expectOk(run(SERVER_CERT_LINES + 'client_ca_file: ca-b.pem\n' + CHANNEL + ROUTE, { files: files() }));
  });

  test(
    'from the environment: XDS_CERTIFICATE_FILE, ' + 'XDS_CERTIFICATE_KEY, XDS_CLIENT_CA (base64) and XDS_NODE_IDS',
    () => {
      const env = {
        XDS_ADDRESS: '0.0.0.0:18000',
        XDS_CERTIFICATE_FILE: `${CONFIG_DIR}/server.pem`,
        XDS_CERTIFICATE_KEY: base64(pems.serverKey),
        XDS_CLIENT_CA: base64(pems.ca),
        XDS_NODE_IDS: 'edge-2, edge-1',
      };
      const config = expectOk(run(SERVER_CERT_LINES + ROUTE, { files: files(), env }));
      assert.deepEqual(config.xdsTls?.nodeIds, ['edge-1', 'edge-2']);
      assert.deepEqual(config.xdsAddress, { host: '0.0.0.0', port: 18000 });
    },
  );

  test('xds_node_ids: a list; ids with separators, spaces or NUL are refused; without TLS it is an error', () => {
    const ok = expectOk(
      run(SERVER_CERT_LINES + CHANNEL + 'xds_node_ids: [edge-1, edge.2, edge_3]\n' + ROUTE, { files: files() }),
    );
    assert.deepEqual(ok.xdsTls?.nodeIds, ['edge-1', 'edge.2', 'edge_3']);
    for (const bad of ['a:b', 'a b', 'a/b', '-a', 'a\\u0000b']) {
      const errors = expectErrors(
        run(SERVER_CERT_LINES + CHANNEL + `xds_node_ids: ["${bad}"]\n` + ROUTE, { files: files() }),
      );
      assertError(errors, { key: 'xds_node_ids[0]', line: 6, message: /is not a node id/ });
    }
    const noTls = expectErrors(run(SERVER_CERT_LINES + 'xds_node_ids: [edge-1]\n' + ROUTE, { files: files() }));
    assertError(noTls, { key: 'xds_node_ids', line: 3, message: /needs the control channel certificates/ });
  });
});
