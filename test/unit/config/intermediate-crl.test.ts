// A CRL in downstream_mtls.crl[_file] whose issuer is none of the client CAs is an intermediate's: it must
// reach the trusts that accept intermediates (and no other); one that could apply to no CA at all is refused
// at the crl key's line instead of silently dropping it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { crlIssuerName } from '../../../control-plane/src/certificates/index.js';
import {
  casWithoutCrl,
  configuredClientCas,
  crlsForBundle,
  type CertificateBundle,
} from '../../../control-plane/src/config/index.js';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  type CertificateAuthority,
} from '../../../control-plane/src/pki/index.js';
import { CONFIG_DIR, assertError, expectErrors, expectOk, loadPems, run, standardFiles } from './fixture.js';

let root: CertificateAuthority;
let otherRoot: CertificateAuthority;
let intermediate: CertificateAuthority;
let files: Record<string, string>;
const crl = { root: '', intermediate: '', otherRoot: '' };

before(async () => {
  root = await createRootCa({ commonName: 'Config CRL Root' });
  otherRoot = await createRootCa({ commonName: 'Config CRL Other Root' });
  intermediate = await createIntermediateCa(root, { commonName: 'Config CRL Intermediate' });
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
const entry = (pem: string) => ({ pem, issuer: crlIssuerName(pem) });

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

  test(
    "loads under depth 1 (Pomerium's default), where no certificate an " +
      "intermediate issued is accepted: one file may hold a PKI's CRLs",
    () => {
      for (const depth of ['1', undefined])
        assert.equal(expectOk(run(config(depth), { files })).clientCertificateRules.crls.length, 1, `depth ${depth}`);
    },
  );

  test('is refused when no client CA is configured at all', () => {
    const errors = expectErrors(run(config('2', 'intermediate-crl.pem', ''), { files }));
    assertError(errors, { key: 'downstream_mtls.crl_file', line: 4, message: /no client CA is configured/ });
  });
});

describe('crlsForBundle and casWithoutCrl', () => {
  test("a bundle gets its own CAs' CRLs, and intermediates' CRLs only when its trust accepts intermediates", () => {
    const crls = [entry(crl.root), entry(crl.intermediate), entry(crl.otherRoot)];
    const configured = configuredClientCas([bundle(root), undefined, bundle(otherRoot)]);
    assert.deepEqual([...configured.subjects].sort(), ['CN=Config CRL Other Root', 'CN=Config CRL Root']);
    assert.equal(
      crlsForBundle(crls, bundle(root)),
      crl.root,
      'direct issuers only: no intermediate CRL, no other CA CRL',
    );
    assert.equal(crlsForBundle(crls, bundle(root), configured), crl.root + crl.intermediate);
    assert.equal(crlsForBundle(crls, bundle(otherRoot), configured), crl.intermediate + crl.otherRoot);
    assert.equal(crlsForBundle([], bundle(root), configured), '');
  });

  test(
    "an intermediate that is also some route's CA: its CRL goes to " +
      'its own trust and to the trust of the CA above it, not to others',
    () => {
      const crls = [entry(crl.root), entry(crl.intermediate), entry(crl.otherRoot)];
      const configured = configuredClientCas([bundle(root), bundle(intermediate), bundle(otherRoot)]);
      assert.equal(configured.issuedUnder('CN=Config CRL Intermediate', bundle(root)), true);
      assert.equal(configured.issuedUnder('CN=Config CRL Intermediate', bundle(otherRoot)), false);
      assert.equal(
        crlsForBundle(crls, bundle(root), configured),
        crl.root + crl.intermediate,
        "the root's trust checks the intermediate's leaves",
      );
      assert.equal(crlsForBundle(crls, bundle(intermediate), configured), crl.intermediate);
      assert.equal(
        crlsForBundle(crls, bundle(otherRoot), configured),
        crl.otherRoot,
        "another root's CA CRLs never apply",
      );
    },
  );

  test(
    "casWithoutCrl counts only the bundle's own CAs: an " +
      "intermediate's CRL covers no root, and hides no uncovered one",
    () => {
      assert.deepEqual(casWithoutCrl([entry(crl.intermediate)], bundle(root, otherRoot)), []);
      assert.deepEqual(casWithoutCrl([entry(crl.root), entry(crl.intermediate)], bundle(root, otherRoot)), [
        'CN=Config CRL Other Root',
      ]);
      assert.deepEqual(
        casWithoutCrl([entry(crl.root), entry(crl.intermediate), entry(crl.otherRoot)], bundle(root, otherRoot)),
        [],
      );
    },
  );
});
