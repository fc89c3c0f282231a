// Valid configs: what resolveConfig turns them into, defaults included.
// Here: server certificates, routes, and empty input.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
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

describe('server certificates', () => {
  test('inline base64 certificate and key', () => {
    const config = expectOk(
      run(`certificate: ${base64(pems.serverCert)}\ncertificate_key: ${base64(pems.serverKey)}\n${PUBLIC_ROUTE}`, {
        files: files(),
      }),
    );
    assert.equal(config.certificates[0]!.certPem, canonical(pems.serverCert));
    assert.deepEqual(plainLocations(config.certificates[0]!.at), { file: CONFIG_FILE, line: 1, key: 'certificate' });
  });

  test('a SEC1 ("EC PRIVATE KEY") key is accepted and handed on as PKCS#8', () => {
    const sec1 = createPrivateKey(pems.serverKey).export({ type: 'sec1', format: 'pem' }).toString();
    assert.match(sec1, /BEGIN EC PRIVATE KEY/);
    const f = new MemoryFiles({ ...standardFiles(pems), '/etc/edge/server-key.pem': sec1 });
    const config = expectOk(run(SERVER_CERT_LINES + PUBLIC_ROUTE, { files: f }));
    assert.match(config.certificates[0]!.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  test('a chain file keeps the leaf first and the rest in order', () => {
    const f = new MemoryFiles({ ...standardFiles(pems), '/etc/edge/server.pem': pems.serverCert + pems.ca });
    const config = expectOk(run(SERVER_CERT_LINES + PUBLIC_ROUTE, { files: f }));
    assert.equal(config.certificates[0]!.certPem, canonical(pems.serverCert) + canonical(pems.ca));
    assert.deepEqual(config.certificates[0]!.dnsNames, ['a.example.com', '*.apps.example.com']);
  });

  test('the certificates list takes files, base64 and raw PEM, after certificate_file', () => {
    const config = expectOk(
      run(
        SERVER_CERT_LINES +
          yaml`
            certificates:
              - cert: server.pem
                key: /etc/edge/server-key.pem
              - cert: ${base64(pems.serverCert)}
                key: ${base64(pems.serverKey)}
          ` +
          `  - cert: |\n${indentBlock(pems.serverCert, 6)}    key: |\n${indentBlock(pems.serverKey, 6)}` +
          PUBLIC_ROUTE,
        { files: files() },
      ),
    );
    assert.equal(config.certificates.length, 4);
    assert.deepEqual(
      config.certificates.map((c) => c.at.key),
      ['certificate_file', 'certificates[0].cert', 'certificates[1].cert', 'certificates[2].cert'],
    );
    for (const c of config.certificates) assert.equal(c.certPem, canonical(pems.serverCert));
  });

  test('the certificates list alone is enough', () => {
    const config = expectOk(
      run(`certificates:\n  - cert: server.pem\n    key: server-key.pem\n${PUBLIC_ROUTE}`, { files: files() }),
    );
    assert.equal(config.certificates.length, 1);
  });
});

describe('routes', () => {
  const one = (lines: string) =>
    expectOk(
      run(`${SERVER_CERT_LINES}client_ca_file: ca.pem\nroutes:\n  - from: https://a.example.com\n${lines}`, {
        files: files(),
      }),
    ).routes[0]!;

  test('from: wildcard first label, upper case, trailing slash', () => {
    const config = expectOk(
      run(
        SERVER_CERT_LINES +
          yaml`
            routes:
              - from: https://*.apps.example.com
                to: http://x
                allow_public_unauthenticated_access: true
              - from: HTTPS://B.Example.COM/
                to: http://x
                allow_public_unauthenticated_access: true
          `,
        { files: files() },
      ),
    );
    assert.deepEqual(
      config.routes.map((r) => r.from.host),
      ['*.apps.example.com', 'b.example.com'],
    );
  });

  test('to: one URL or several, default ports, IPv6, path prefix', () => {
    assert.deepEqual(one('    to: http://backend\n    allow_any_authenticated_user: true\n').to, [
      { scheme: 'http', host: 'backend', port: 80 },
    ]);
    const r = one(
      '    to:\n      - https://[2001:db8::1]/api/\n      - https://Backend.internal:8443/api/\n    allow_any_authenticated_user: true\n',
    );
    assert.deepEqual(r.to, [
      { scheme: 'https', host: '2001:db8::1', port: 443 },
      { scheme: 'https', host: 'backend.internal', port: 8443 },
    ]);
    assert.equal(r.toPathPrefix, '/api/');
  });

  test('path matching: prefix, exact path, regex, prefix_rewrite', () => {
    assert.deepEqual(
      one('    to: http://x\n    prefix: /api/\n    prefix_rewrite: /\n    allow_any_authenticated_user: true\n').match,
      { kind: 'prefix', value: '/api/' },
    );
    assert.equal(
      one('    to: http://x\n    prefix: /api/\n    prefix_rewrite: /v2/\n    allow_any_authenticated_user: true\n')
        .prefixRewrite,
      '/v2/',
    );
    assert.deepEqual(one('    to: http://x\n    path: /healthz\n    allow_any_authenticated_user: true\n').match, {
      kind: 'path',
      value: '/healthz',
    });
    assert.deepEqual(
      one('    to: http://x\n    regex: "^/v[0-9]+/.*"\n    allow_any_authenticated_user: true\n').match,
      { kind: 'regex', value: '^/v[0-9]+/.*' },
    );
  });

  test('header values: Pomerium substitutions parsed, $$ a literal dollar, unknown ones refused', () => {
    const r = one(
      yaml`
      to: http://x
      allow_any_authenticated_user: true
      set_request_headers:
        X-Fp: "sha256=\${pomerium.client_cert_fingerprint}"
        X-Who: "\${pomerium.client_cert_san_email} via \${pomerium.client_cert_san_dns}"
        X-Copy: '\${pomerium.request.headers["User-Agent"]}'
        X-Price: "$$5 100%"
    `.replace(/^/gm, '    '),
    );
    assert.deepEqual(r.setRequestHeaders, [
      ['X-Fp', [{ text: 'sha256=' }, { clientCert: 'fingerprint' }]],
      ['X-Who', [{ clientCert: 'san_email' }, { text: ' via ' }, { clientCert: 'san_dns' }]],
      ['X-Copy', [{ requestHeader: 'User-Agent' }]],
      ['X-Price', [{ text: '$5 100%' }]],
    ]);
    const errors = expectErrors(
      run(
        SERVER_CERT_LINES +
          'client_ca_file: ca.pem\nroutes:\n  - from: https://a.example.com\n    to: http://x\n    allow_any_authenticated_user: true\n    set_request_headers:\n      X-Token: "${pomerium.id_token}"\n',
        { files: files() },
      ),
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /\$\{pomerium\.id_token\} is not available: .*identity provider/);
    assert.equal(errors[0]!.line, 8);
    for (const bad of ['${toString}', '${constructor}', '${pomerium.request.headers["a)%START_TIME%(b"]}']) {
      const e = expectErrors(
        run(
          SERVER_CERT_LINES +
            `routes:\n  - from: https://a.example.com\n    to: http://x\n    allow_public_unauthenticated_access: true\n    set_request_headers:\n      X-T: '${bad}'\n`,
          { files: files() },
        ),
      );
      assert.match(e[0]!.message, /is not available/, bad);
    }
  });

  test('headers: values as strings in file order, removals lower-cased', () => {
    const r = one(
      yaml`
      to: http://x
      allow_any_authenticated_user: true
      preserve_host_header: true
      set_request_headers:
        X-Env: prod
        X-Count: 3
        X-Flag: true
      remove_request_headers: [X-Secret, Cookie]
    `.replace(/^/gm, '    '),
    );
    assert.equal(r.preserveHostHeader, true);
    assert.deepEqual(r.setRequestHeaders, [
      ['X-Env', [{ text: 'prod' }]],
      ['X-Count', [{ text: '3' }]],
      ['X-Flag', [{ text: 'true' }]],
    ]);
    assert.deepEqual(r.removeRequestHeaders, ['x-secret', 'cookie']);
    assert.deepEqual(
      one('    to: http://x\n    allow_any_authenticated_user: true\n    remove_request_headers: X-One\n')
        .removeRequestHeaders,
      ['x-one'],
    );
  });

  test('upstream TLS settings on an https upstream', () => {
    const r = one(
      yaml`
      to: https://backend.internal
      allow_any_authenticated_user: true
      tls_skip_verify: false
      tls_server_name: backend.example.com
      tls_custom_ca_file: ca-b.pem
    `.replace(/^/gm, '    '),
    );
    assert.equal(r.upstreamTls.skipVerify, false);
    assert.equal(r.upstreamTls.serverName, 'backend.example.com');
    assert.deepEqual(r.upstreamTls.customCa!.fingerprints, [fingerprint(pems.caB)]);
    assert.equal(
      one('    to: https://x\n    allow_any_authenticated_user: true\n    tls_skip_verify: true\n').upstreamTls
        .skipVerify,
      true,
    );
  });

  test('pass_identity_headers: false and allow_public_unauthenticated_access: false with another grant', () => {
    const r = one(
      '    to: http://x\n    pass_identity_headers: false\n    allow_public_unauthenticated_access: false\n    allow_any_authenticated_user: true\n',
    );
    assert.equal(r.access, 'any_authenticated_user');
  });
});

describe('empty input', () => {
  test('an empty or comment-only file reports what is missing', () => {
    for (const text of ['', '# nothing here yet\n', '---\n']) {
      const errors = expectErrors(run(text, { files: files() }));
      assert.deepEqual(
        errors.map((e) => [e.key, e.line, e.message.split(':')[0]]),
        [
          ['(document)', 1, 'no server certificate'],
          ['(document)', 1, 'no routes'],
        ],
        JSON.stringify(text),
      );
    }
  });
});
