// Valid configs: what resolveConfig turns them into, defaults included.
// Here: defaults, addresses, the client CA and file paths.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ROUTE_KEYS, SCALAR_KEYS, STRUCTURED_KEYS, type RouteConfig } from '../../../control-plane/src/config/index.js';
import {
  CONFIG_FILE,
  MemoryFiles,
  SERVER_CERT_LINES,
  base64,
  expectErrors,
  expectOk,
  indentBlock,
  run,
  standardFiles,
  yaml,
} from './fixture.js';
import { pems, loadTestPems, files, canonical, fingerprint, PUBLIC_ROUTE } from './resolve-fixture.js';
import { plainLocations } from '../../support/plain-locations.js';

before(loadTestPems);

describe('defaults', () => {
  test('a minimal config gets the default addresses and route settings', () => {
    const config = expectOk(run(SERVER_CERT_LINES + PUBLIC_ROUTE, { files: files() }));
    assert.equal(config.sourceFile, CONFIG_FILE);
    assert.deepEqual(config.address, { host: '0.0.0.0', port: 443 });
    assert.deepEqual(config.adminAddress, { host: '127.0.0.1', port: 9902 });
    assert.deepEqual(config.xdsAddress, { host: '127.0.0.1', port: 18000 });
    assert.deepEqual(config.envoyAdminAddress, { host: '127.0.0.1', port: 9901 });
    assert.equal(config.clientCa, undefined);
    assert.equal(config.routes.length, 1);
    const expected: RouteConfig = {
      index: 0,
      at: { file: CONFIG_FILE, line: 4, key: 'routes[0]' },
      from: { host: 'a.example.com' },
      to: [{ scheme: 'http', host: '127.0.0.1', port: 8080 }],
      toPathPrefix: undefined,
      match: { kind: 'prefix', value: '/' },
      prefixRewrite: undefined,
      preserveHostHeader: false,
      setRequestHeaders: [],
      removeRequestHeaders: [],
      timeoutMs: 30_000,
      upstreamTls: {
        skipVerify: false,
        serverName: undefined,
        customCa: undefined,
        clientCertificate: undefined,
        allowRenegotiation: false,
      },
      clientCa: undefined,
      access: 'public',
      policy: undefined,
      passIdentityHeaders: false,
      signIn: false,
    };
    assert.deepEqual(plainLocations(config.routes[0]), expected);
  });

  test('the server certificate is parsed, canonicalised and located', () => {
    const config = expectOk(run(SERVER_CERT_LINES + PUBLIC_ROUTE, { files: files() }));
    assert.equal(config.certificates.length, 1);
    const [cert] = config.certificates;
    assert.equal(cert!.certPem, canonical(pems.serverCert));
    assert.match(cert!.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(new X509Certificate(cert!.certPem).checkPrivateKey(createPrivateKey(cert!.keyPem)));
    assert.deepEqual(cert!.dnsNames, ['a.example.com', '*.apps.example.com']);
    assert.equal(cert!.notAfter.getTime(), new Date(new X509Certificate(pems.serverCert).validTo).getTime());
    assert.deepEqual(plainLocations(cert!.at), { file: CONFIG_FILE, line: 1, key: 'certificate_file' });
  });

  test('the exported key lists cover every option the stage reads', () => {
    assert.ok(SCALAR_KEYS.includes('client_ca_file'));
    assert.deepEqual([...STRUCTURED_KEYS], ['certificates', 'routes', 'forward_client_cert']);
    for (const k of [
      'from',
      'to',
      'timeout',
      'tls_downstream_client_ca_file',
      'allow_any_authenticated_user',
      'policy',
    ]) {
      assert.ok((ROUTE_KEYS as readonly string[]).includes(k), k);
    }
  });

  test('a route order and index follow the file', () => {
    const config = expectOk(
      run(
        SERVER_CERT_LINES +
          yaml`
            routes:
              - from: https://b.example.com
                to: http://127.0.0.1:1
                allow_public_unauthenticated_access: true
              - from: https://a.example.com
                to: http://127.0.0.1:2
                allow_public_unauthenticated_access: true
          `,
        { files: files() },
      ),
    );
    assert.deepEqual(
      config.routes.map((r) => [r.index, r.from.host, r.at.line]),
      [
        [0, 'b.example.com', 4],
        [1, 'a.example.com', 7],
      ],
    );
  });
});

describe('addresses', () => {
  const cases: Array<[string, { host: string; port: number }]> = [
    [':8443', { host: '0.0.0.0', port: 8443 }],
    ['0.0.0.0:443', { host: '0.0.0.0', port: 443 }],
    ['127.0.0.1:1', { host: '127.0.0.1', port: 1 }],
    ['localhost:9000', { host: '127.0.0.1', port: 9000 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
    ['[::]:65535', { host: '::', port: 65535 }],
    ['edge.internal:18000', { host: 'edge.internal', port: 18000 }],
    [' :443 ', { host: '0.0.0.0', port: 443 }],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => {
      // An xds_address other machines can reach needs the control channel's mutual TLS (control-channel.test.ts).
      const channel =
        'xds_certificate_file: server.pem\nxds_certificate_key_file: server-key.pem\nxds_client_ca_file: ca.pem\n';
      const config = expectOk(
        run(`${SERVER_CERT_LINES}address: "${text}"\nxds_address: "${text}"\n${channel}${PUBLIC_ROUTE}`, {
          files: files(),
        }),
      );
      assert.deepEqual(config.address, expected);
      assert.deepEqual(config.xdsAddress, expected);
    });
  }

  test('each address key is independent of the others', () => {
    const config = expectOk(
      run(
        SERVER_CERT_LINES +
          yaml`
            admin_address: 127.0.0.1:19902
            envoy_admin_address: 127.0.0.1:19901
          ` +
          PUBLIC_ROUTE,
        { files: files() },
      ),
    );
    assert.deepEqual(config.address, { host: '0.0.0.0', port: 443 });
    assert.deepEqual(config.adminAddress, { host: '127.0.0.1', port: 19902 });
    assert.deepEqual(config.envoyAdminAddress, { host: '127.0.0.1', port: 19901 });
    assert.deepEqual(config.xdsAddress, { host: '127.0.0.1', port: 18000 });
  });
});

describe('client CA', () => {
  const withCa = (line: string) => `${SERVER_CERT_LINES}${line}${PUBLIC_ROUTE}`;

  test('from a file, as base64 and as raw PEM, all give the same bundle', () => {
    const fromFile = expectOk(run(withCa('client_ca_file: ca.pem\n'), { files: files() })).clientCa;
    const fromBase64 = expectOk(run(withCa(`client_ca: ${base64(pems.ca)}\n`), { files: files() })).clientCa;
    const fromPem = expectOk(run(withCa(`client_ca: |\n${indentBlock(pems.ca, 2)}`), { files: files() })).clientCa;
    for (const bundle of [fromFile, fromBase64, fromPem]) {
      assert.ok(bundle);
      assert.equal(bundle.pem, canonical(pems.ca));
      assert.deepEqual(bundle.fingerprints, [fingerprint(pems.ca)]);
    }
    assert.equal(fromFile!.origin, 'client_ca_file (ca.pem)');
    assert.equal(fromBase64!.origin, 'client_ca');
    assert.equal(fromPem!.origin, 'client_ca');
  });

  test('base64 with surrounding whitespace and a raw PEM with CRLF line ends', () => {
    const padded = expectOk(run(withCa(`client_ca: "  ${base64(pems.ca)}  "\n`), { files: files() })).clientCa;
    assert.deepEqual(padded!.fingerprints, [fingerprint(pems.ca)]);
    const crlf = new MemoryFiles({ ...standardFiles(pems), '/etc/edge/ca-crlf.pem': pems.ca.replace(/\n/g, '\r\n') });
    const fromCrlf = expectOk(run(withCa('client_ca_file: ca-crlf.pem\n'), { files: crlf })).clientCa;
    assert.equal(fromCrlf!.pem, canonical(pems.ca));
  });

  test('a bundle of two CAs keeps both, fingerprints sorted', () => {
    const bundleFiles = new MemoryFiles({
      ...standardFiles(pems),
      '/etc/edge/bundle.pem': `# comment lines are ignored\n${pems.caB}\n${pems.ca}`,
    });
    const ca = expectOk(run(withCa('client_ca_file: bundle.pem\n'), { files: bundleFiles })).clientCa!;
    assert.deepEqual(ca.fingerprints, [fingerprint(pems.ca), fingerprint(pems.caB)].sort());
    assert.equal(ca.pem, canonical(pems.caB) + canonical(pems.ca));
  });

  test("a route's own CA replaces the global one for that route only", () => {
    const config = expectOk(
      run(
        SERVER_CERT_LINES +
          yaml`
            client_ca_file: ca.pem
            routes:
              - from: https://a.example.com
                to: http://127.0.0.1:8080
                tls_downstream_client_ca_file: ca-b.pem
                allow_any_authenticated_user: true
              - from: https://b.example.com
                to: http://127.0.0.1:8080
                allow_any_authenticated_user: true
              - from: https://c.example.com
                to: http://127.0.0.1:8080
                tls_downstream_client_ca: ${base64(pems.caB)}
                allow_public_unauthenticated_access: true
          `,
        { files: files() },
      ),
    );
    assert.deepEqual(config.clientCa!.fingerprints, [fingerprint(pems.ca)]);
    const [a, b, c] = config.routes;
    assert.deepEqual(a!.clientCa!.fingerprints, [fingerprint(pems.caB)]);
    assert.equal(a!.clientCa!.origin, 'tls_downstream_client_ca_file (ca-b.pem)');
    assert.equal(a!.access, 'any_authenticated_user');
    // The route itself carries no CA; the model applies the global one.
    assert.equal(b!.clientCa, undefined);
    assert.equal(b!.access, 'any_authenticated_user');
    assert.deepEqual(c!.clientCa!.fingerprints, [fingerprint(pems.caB)]);
    assert.equal(c!.access, 'public');
  });
});

describe('file paths', () => {
  test('relative YAML paths resolve against the config directory, absolute ones are kept', () => {
    const f = new MemoryFiles({
      '/etc/edge/tls/server.pem': pems.serverCert,
      '/etc/server-key.pem': pems.serverKey,
      '/opt/pki/ca.pem': pems.ca,
      '/etc/edge/routes/ca-b.pem': pems.caB,
    });
    const config = expectOk(
      run(
        yaml`
          certificate_file: tls/server.pem
          certificate_key_file: ../server-key.pem
          client_ca_file: /opt/pki/ca.pem
          routes:
            - from: https://a.example.com
              to: http://127.0.0.1:8080
              tls_downstream_client_ca_file: ./routes/ca-b.pem
              allow_any_authenticated_user: true
        `,
        { files: f },
      ),
    );
    assert.deepEqual(f.reads, [
      '/etc/edge/tls/server.pem',
      '/etc/server-key.pem',
      '/opt/pki/ca.pem',
      '/etc/edge/routes/ca-b.pem',
    ]);
    assert.equal(config.routes[0]!.clientCa!.origin, 'tls_downstream_client_ca_file (./routes/ca-b.pem)');
  });

  test('the config directory is the one passed in, not the cwd', () => {
    const f = new MemoryFiles(
      {
        '/opt/conf/server.pem': pems.serverCert,
        '/opt/conf/server-key.pem': pems.serverKey,
        '/srv/run/server.pem': 'wrong',
      },
      { configDir: '/opt/conf', cwd: '/srv/run' },
    );
    expectOk(run(SERVER_CERT_LINES + PUBLIC_ROUTE, { files: f, file: '/opt/conf/edge.yaml' }));
    assert.deepEqual(f.reads, ['/opt/conf/server.pem', '/opt/conf/server-key.pem']);
  });

  test('the YAML file name appears in errors as given', () => {
    const errors = expectErrors(run('routes: 1\n', { files: files(), file: 'relative/edge.yaml' }));
    assert.ok(errors.every((e) => e.file === 'relative/edge.yaml'));
  });
});
