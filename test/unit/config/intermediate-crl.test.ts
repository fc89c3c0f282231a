// A CRL in downstream_mtls.crl[_file] whose issuer is none of the client CAs is an intermediate's: it must
// reach the trusts that accept intermediates, and a config in which no trust could ever check it is refused
// at the crl key's line instead of silently dropping the CRL.
import { X509Crl } from '@peculiar/x509';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { casWithoutCrl, clientCaSubjects, crlsForBundle, type CertificateBundle } from '../../../control-plane/src/config/index.js';
import { createCrl, createIntermediateCa, createRootCa, type CertificateAuthority } from '../../../control-plane/src/pki/index.js';
import { CONFIG_DIR, assertError, expectErrors, expectOk, loadPems, run, standardFiles, yaml } from './fixture.js';

let root: CertificateAuthority;
let otherRoot: CertificateAuthority;
let files: Record<string, string>;
const crl = { root: '', intermediate: '', otherRoot: '' };

before(async () => {
  root = await createRootCa({ commonName: 'Config CRL Root' });
  otherRoot = await createRootCa({ commonName: 'Config CRL Other Root' });
  const intermediate = await createIntermediateCa(root, { commonName: 'Config CRL Intermediate' });
  crl.root = await createCrl(root, []);
  crl.intermediate = await createCrl(intermediate, ['0a1b2c']);
  crl.otherRoot = await createCrl(otherRoot, []);
  files = {
    ...standardFiles(await loadPems()),
    [`${CONFIG_DIR}/root.pem`]: root.certPem,
    [`${CONFIG_DIR}/other-root.pem`]: otherRoot.certPem,
    [`${CONFIG_DIR}/intermediate-crl.pem`]: crl.intermediate,
    [`${CONFIG_DIR}/root-and-intermediate-crl.pem`]: crl.root + crl.intermediate,
  };
});

const bundle = (...cas: CertificateAuthority[]): CertificateBundle => ({
  pem: cas.map((c) => c.certPem).join(''),
  fingerprints: cas.map((c) => new X509Certificate(c.certPem).fingerprint256).sort(),
  origin: 'test',
});
const entry = (pem: string) => ({ pem, issuer: new X509Crl(pem).issuer });

/** The block under test at lines 3–6 (line 4: crl_file), one route at a.example.com. */
const config = (depth: string | undefined, crlFile = 'intermediate-crl.pem', ca = '  ca_file: root.pem\n') =>
  'certificate_file: server.pem\ncertificate_key_file: server-key.pem\ndownstream_mtls:\n' +
  `  crl_file: ${crlFile}\n${ca}${depth === undefined ? '' : `  max_verify_depth: ${depth}\n`}` +
  'routes:\n  - from: https://a.example.com\n    to: http://127.0.0.1:8080\n    allow_any_authenticated_user: true\n';

describe("an intermediate's CRL (issuer: none of the client CAs)", () => {
  test('is accepted where a trust accepts intermediates: depth 2, or 0 (no limit)', () => {
    for (const depth of ['2', '0']) {
      const c = expectOk(run(config(depth), { files }));
      assert.equal(c.clientCertificateRules.crls.length, 1, `depth ${depth}`);
    }
  });

  test("is refused at the crl_file line under depth 1 (Pomerium's default), saying what to do", () => {
    for (const depth of ['1', undefined]) {
      const errors = expectErrors(run(config(depth), { files }));
      assertError(errors, { key: 'downstream_mtls.crl_file', line: 4, message: /CRL 1 \(issuer CN=Config CRL Intermediate\): issued by none of the client CAs.*never be checked.*max_verify_depth to 2/ });
    }
  });

  test('is refused when no client CA is configured at all', () => {
    const errors = expectErrors(run(config('2', 'intermediate-crl.pem', ''), { files }));
    assertError(errors, { key: 'downstream_mtls.crl_file', line: 4, message: /no client CA is configured/ });
  });

  test("a CRL of a route's own CA is a client CA's, not an intermediate's: accepted at depth 1", () => {
    const text = yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      downstream_mtls:
        crl_file: intermediate-crl.pem
        ca_file: ca.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: root.pem
          allow_any_authenticated_user: true
    `;
    // The intermediate's CRL is an orphan with ca.pem and root.pem: refused. With the CRL of root.pem (a route's CA): fine.
    assertError(expectErrors(run(text, { files })), { key: 'downstream_mtls.crl_file', line: 4, message: /issued by none of the client CAs/ });
    const ok = { ...files, [`${CONFIG_DIR}/intermediate-crl.pem`]: crl.root };
    assert.equal(expectOk(run(text, { files: ok })).clientCertificateRules.crls.length, 1);
  });
});

describe('crlsForBundle and casWithoutCrl', () => {
  test("a bundle gets its own CAs' CRLs, and intermediates' CRLs only when its trust accepts intermediates", () => {
    const crls = [entry(crl.root), entry(crl.intermediate), entry(crl.otherRoot)];
    const caSubjects = clientCaSubjects([bundle(root), undefined, bundle(otherRoot)]);
    assert.deepEqual([...caSubjects].sort(), ['CN=Config CRL Other Root', 'CN=Config CRL Root']);
    assert.equal(crlsForBundle(crls, bundle(root)), crl.root, 'direct issuers only: no intermediate CRL, no other CA CRL');
    assert.equal(crlsForBundle(crls, bundle(root), { caSubjects }), crl.root + crl.intermediate);
    assert.equal(crlsForBundle(crls, bundle(otherRoot), { caSubjects }), crl.intermediate + crl.otherRoot);
    assert.equal(crlsForBundle([], bundle(root), { caSubjects }), '');
  });

  test("casWithoutCrl counts only the bundle's own CAs: an intermediate's CRL covers no root, and hides no uncovered one", () => {
    assert.deepEqual(casWithoutCrl([entry(crl.intermediate)], bundle(root, otherRoot)), []);
    assert.deepEqual(casWithoutCrl([entry(crl.root), entry(crl.intermediate)], bundle(root, otherRoot)), ['CN=Config CRL Other Root']);
    assert.deepEqual(casWithoutCrl([entry(crl.root), entry(crl.intermediate), entry(crl.otherRoot)], bundle(root, otherRoot)), []);
  });
});
