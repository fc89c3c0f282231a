// Pomerium's downstream_mtls block: its keys, defaults, environment variables, and how it combines with client_ca.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createCrl, createRootCa } from '../../../control-plane/src/pki/index.js';
import {
  CONFIG_DIR,
  assertError,
  expectErrors,
  expectOk,
  loadPems,
  run,
  standardFiles,
  yaml,
  type Pems,
} from './fixture.js';

let pems: Pems;
let files: Record<string, string>;
let crlIssuer: string;

before(async () => {
  pems = await loadPems();
  const revoking = await createRootCa({ commonName: 'Revoking CA' });
  crlIssuer = 'CN=Revoking CA';
  files = {
    ...standardFiles(pems),
    [`${CONFIG_DIR}/crl.pem`]: await createCrl(revoking, ['0a1b2c']),
    [`${CONFIG_DIR}/revoking-ca.pem`]: revoking.certPem,
  };
});

const route = `
routes:
  - from: https://a.example.com
    to: http://127.0.0.1:8080
    allow_any_authenticated_user: true
`;

describe('downstream_mtls', () => {
  test("Pomerium's defaults: policy_with_default_deny, depth 1, no CRL, no SAN matchers", () => {
    const c = expectOk(
      run(
        yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      downstream_mtls:
        ca_file: ca.pem
    ` + route,
        { files },
      ),
    );
    assert.ok(c.clientCa);
    assert.deepEqual(c.clientCertificateRules, {
      enforcement: 'policy_with_default_deny',
      maxVerifyDepth: 1,
      crls: [],
      matchSubjectAltNames: [],
    });
  });

  test('client_ca keeps handshake enforcement and no depth limit, as before downstream_mtls existed', () => {
    const c = expectOk(
      run(
        yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_file: ca.pem
    ` + route,
        { files },
      ),
    );
    assert.deepEqual(c.clientCertificateRules, {
      enforcement: 'reject_connection',
      maxVerifyDepth: 0,
      crls: [],
      matchSubjectAltNames: [],
    });
  });

  test('every key, read', () => {
    const c = expectOk(
      run(
        yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      downstream_mtls:
        ca_file: ca.pem
        crl_file: crl.pem
        enforcement: reject_connection
        max_verify_depth: 0
        match_subject_alt_names:
          - email: .*@example\\.com
          - user_principal_name: ^alice@corp$
    ` + route,
        { files },
      ),
    );
    const r = c.clientCertificateRules;
    assert.equal(r.enforcement, 'reject_connection');
    assert.equal(r.maxVerifyDepth, 0);
    assert.equal(r.crls.length, 1);
    assert.equal(r.crls[0]!.issuer, crlIssuer);
    assert.deepEqual(r.matchSubjectAltNames, [
      { type: 'email', regex: '.*@example\\.com' },
      { type: 'user_principal_name', regex: '^alice@corp$' },
    ]);
  });

  test('DOWNSTREAM_MTLS_* variables set the keys inside the block, over the file', () => {
    const c = expectOk(
      run(SERVER + route, {
        files,
        env: {
          DOWNSTREAM_MTLS_CA_FILE: `${CONFIG_DIR}/ca-b.pem`,
          DOWNSTREAM_MTLS_ENFORCEMENT: 'policy',
          DOWNSTREAM_MTLS_MAX_VERIFY_DEPTH: '3',
        },
      }),
    );
    assert.equal(c.clientCertificateRules.enforcement, 'policy');
    assert.equal(c.clientCertificateRules.maxVerifyDepth, 3);
    assert.match(c.clientCa!.origin, /ca-b\.pem/);
  });

  test('errors: both client CA forms, unknown enforcement, bad depth, bad SAN matchers, a CRL that is not one', () => {
    const errors = expectErrors(
      run(
        yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_file: ca.pem
      downstream_mtls:
        ca_file: ca.pem
        enforcement: strict
        max_verify_depth: -1
        crl_file: ca.pem
        match_subject_alt_names:
          - phone: "123"
          - email: "(unclosed"
    ` + route,
        { files },
      ),
    );
    assertError(errors, { key: 'downstream_mtls.ca_file', line: 5, message: /set the client CA once/ });
    assertError(errors, {
      key: 'downstream_mtls.enforcement',
      line: 6,
      message: /expected one of policy_with_default_deny, policy, reject_connection/,
    });
    assertError(errors, { key: 'downstream_mtls.max_verify_depth', line: 7, message: /whole number from 0/ });
    assertError(errors, { key: 'downstream_mtls.crl_file', line: 8, message: /no PEM CRL found/ });
    assertError(errors, { key: 'downstream_mtls.match_subject_alt_names[0].phone', line: 10, message: /unknown key/ });
    assertError(errors, {
      key: 'downstream_mtls.match_subject_alt_names[1].email',
      line: 11,
      message: /not a valid regular expression/,
    });
  });
});

const SERVER = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n';
