// The client certificate the edge presents to upstreams, and the other upstream TLS keys: each error names the
// file, the line and the key to edit.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import { assertError, base64, expectOk, MemoryFiles, run, standardFiles, yaml } from './fixture.js';
import { errorsOf, loadTestPems, pems } from './errors-fixture.js';

let client: { cert: string; key: string };
let noUsage: { cert: string; key: string };

before(async () => {
  await loadTestPems();
  const ca = await createRootCa({ commonName: 'Upstream Client CA' });
  const issued = await issueClientCertificate(ca, { commonName: 'edge-to-upstream' });
  client = { cert: issued.certPem, key: issued.keyPem };
  const bare = await issueClientCertificate(ca, { commonName: 'no-usage', extendedKeyUsage: 'none' });
  noUsage = { cert: bare.certPem, key: bare.keyPem };
});

const clientFiles = () => ({
  '/etc/edge/up-client.pem': client.cert,
  '/etc/edge/up-client-key.pem': client.key,
  '/etc/edge/no-usage.pem': noUsage.cert,
  '/etc/edge/no-usage-key.pem': noUsage.key,
});

/** A config whose one route has these upstream keys (from line 6 on). */
const routeWith = (to: string, keys: string) =>
  yaml`
    certificate_file: server.pem
    certificate_key_file: server-key.pem
    routes:
      - from: https://a.example.com
        to: ${to}
        allow_public_unauthenticated_access: true
  ` + keys;

describe('tls_client_cert and tls_client_key', () => {
  test('a certificate without its key', () => {
    const errors = errorsOf(routeWith('https://10.0.0.1', '    tls_client_cert_file: up-client.pem\n'), clientFiles());
    assertError(errors, {
      key: 'routes[0].tls_client_cert_file',
      line: 7,
      message: /^tls_client_cert_file \(up-client\.pem\) is set but tls_client_key \/ tls_client_key_file is not$/,
    });
    assert.equal(errors.length, 1);
  });

  test('a key without its certificate', () => {
    const errors = errorsOf(routeWith('https://10.0.0.1', `    tls_client_key: '${base64(client.key)}'\n`));
    assertError(errors, {
      key: 'routes[0].tls_client_key',
      line: 7,
      message: /^routes\[0\]\.tls_client_key is set but tls_client_cert \/ tls_client_cert_file is not$/,
    });
  });

  test('a key that belongs to another certificate', () => {
    const keys = '    tls_client_cert_file: up-client.pem\n    tls_client_key_file: other-key.pem\n';
    const errors = errorsOf(routeWith('https://10.0.0.1', keys), clientFiles());
    assertError(errors, {
      key: 'routes[0].tls_client_key_file',
      line: 8,
      message:
        /^tls_client_key_file \(other-key\.pem\) does not match the certificate in tls_client_cert_file \(up-client\.pem\) \(subject CN=edge-to-upstream\)$/,
    });
  });

  test('a certificate whose extended key usage lacks clientAuth (a server certificate)', () => {
    const keys = '    tls_client_cert_file: server.pem\n    tls_client_key_file: server-key.pem\n';
    const errors = errorsOf(routeWith('https://10.0.0.1', keys));
    assertError(errors, {
      key: 'routes[0].tls_client_cert_file',
      line: 7,
      message:
        /^tls_client_cert_file \(server\.pem\): certificate "[^"]*" may not be used by a TLS client \(its extended key usage lacks clientAuth\)/,
    });
  });

  test('a key that is not a key', () => {
    const keys = '    tls_client_cert_file: up-client.pem\n    tls_client_key_file: garbage.pem\n';
    const errors = errorsOf(routeWith('https://10.0.0.1', keys), clientFiles());
    assertError(errors, {
      key: 'routes[0].tls_client_key_file',
      line: 8,
      message: /^tls_client_key_file \(garbage\.pem\): no PEM private key found/,
    });
  });

  test('on a route whose upstream is http, each upstream TLS key is an error of its own', () => {
    const keys =
      '    tls_client_cert_file: up-client.pem\n    tls_client_key_file: up-client-key.pem\n' +
      '    tls_upstream_allow_renegotiation: true\n    tls_upstream_server_name: up.internal\n';
    const errors = errorsOf(routeWith('http://10.0.0.1', keys), clientFiles());
    const http = /^applies only to https upstreams, but every "to" URL of this route is http$/;
    assertError(errors, { key: 'routes[0].tls_client_cert_file', line: 7, message: http });
    assertError(errors, { key: 'routes[0].tls_client_key_file', line: 8, message: http });
    assertError(errors, { key: 'routes[0].tls_upstream_allow_renegotiation', line: 9, message: http });
    assertError(errors, { key: 'routes[0].tls_upstream_server_name', line: 10, message: http });
    assert.equal(errors.length, 4);
  });

  test('accepted from files, as base64 and as raw PEM; no extended key usage at all is accepted too', () => {
    const files = new MemoryFiles({ ...standardFiles(pems), ...clientFiles() });
    const config = expectOk(
      run(
        yaml`
          certificate_file: server.pem
          certificate_key_file: server-key.pem
          routes:
            - from: https://a.example.com
              to: https://10.0.0.1
              tls_client_cert_file: up-client.pem
              tls_client_key_file: up-client-key.pem
              allow_public_unauthenticated_access: true
            - from: https://b.example.com
              to: https://10.0.0.1
              tls_client_cert: '${base64(client.cert)}'
              tls_client_key: '${base64(client.key)}'
              allow_public_unauthenticated_access: true
            - from: https://c.example.com
              to: https://10.0.0.1
              tls_client_cert_file: no-usage.pem
              tls_client_key_file: no-usage-key.pem
              allow_public_unauthenticated_access: true
        ` +
          `  - from: https://d.example.com\n    to: https://10.0.0.1\n` +
          `    tls_client_cert: |\n${indent(client.cert)}    tls_client_key: |\n${indent(client.key)}` +
          '    allow_public_unauthenticated_access: true\n',
        { files },
      ),
    );
    const certs = config.routes.map((r) => r.upstreamTls.clientCertificate);
    assert.equal(certs.length, 4);
    for (const c of certs) assert.ok(c, 'every route has its client certificate');
    assert.equal(certs[0]!.subject, 'CN=edge-to-upstream');
    assert.equal(certs[0]!.source, '{"cert":{"file":"up-client.pem"},"key":{"file":"up-client-key.pem"}}');
    // Inline: named by the whole chain's content, so that two routes with the same one share it.
    assert.match(certs[1]!.source, /^\{"cert":\{"inline":"[0-9a-f]{64}"\},"key":"inline"\}$/);
    assert.equal(certs[3]!.source, certs[1]!.source);
    assert.equal(certs[3]!.keyPem, certs[0]!.keyPem);
    assert.equal(certs[2]!.subject, 'CN=no-usage');
  });
});

describe('tls_upstream_server_name and its older name', () => {
  test('either name sets the server name', () => {
    for (const key of ['tls_upstream_server_name', 'tls_server_name']) {
      const config = expectOk(
        run(routeWith('https://10.0.0.1', `    ${key}: up.internal\n`), { files: standardFiles(pems) }),
      );
      assert.equal(config.routes[0]!.upstreamTls.serverName, 'up.internal', key);
    }
  });

  test('both at once, with different values, is an error at the older one, naming the line of the other', () => {
    const keys = '    tls_upstream_server_name: up.internal\n    tls_server_name: old.internal\n';
    const errors = errorsOf(routeWith('https://10.0.0.1', keys));
    assertError(errors, {
      key: 'routes[0].tls_server_name',
      line: 8,
      message:
        /^set either tls_upstream_server_name or its older name tls_server_name, not both with different values \(tls_upstream_server_name is set at \/etc\/edge\/config\.yaml:7\)$/,
    });
  });

  test('both at once with one value is a config halfway through the rename: taken', () => {
    const keys = '    tls_upstream_server_name: up.internal\n    tls_server_name: up.internal\n';
    const config = expectOk(run(routeWith('https://10.0.0.1', keys), { files: standardFiles(pems) }));
    assert.equal(config.routes[0]!.upstreamTls.serverName, 'up.internal');
  });

  test('tls_upstream_allow_renegotiation must be a boolean', () => {
    const errors = errorsOf(routeWith('https://10.0.0.1', '    tls_upstream_allow_renegotiation: sometimes\n'));
    assertError(errors, {
      key: 'routes[0].tls_upstream_allow_renegotiation',
      line: 7,
      message: /^expected true or false/,
    });
  });
});

test("two inline chains that share a leaf are two secrets: a route never presents the other route's chain", () => {
  const source = (chain: string) => {
    const config = expectOk(
      run(
        routeWith(
          'https://10.0.0.1',
          `    tls_client_cert: '${base64(chain)}'\n    tls_client_key: '${base64(client.key)}'\n`,
        ),
        {
          files: standardFiles(pems),
        },
      ),
    );
    return config.routes[0]!.upstreamTls.clientCertificate!.source;
  };
  assert.notEqual(source(client.cert), source(client.cert + pems.ca));
});

function indent(pem: string): string {
  return pem
    .trimEnd()
    .split('\n')
    .map((l) => `      ${l}\n`)
    .join('');
}
