// Shared setup of the verifyClientCertificate tests: CAs, client certificates, trust, and a refusal check.
import assert from 'node:assert/strict';
import { createIntermediateCa, createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import { verifyClientCertificate, type ClientTrust } from '../../../control-plane/src/identity/verify-certificate.js';

export const DAY_MS = 24 * 3_600_000;
export const root = await createRootCa({ commonName: 'Verify Root CA' });
export const other = await createRootCa({ commonName: 'Verify Other CA' });
export const intermediate = await createIntermediateCa(root, { commonName: 'Verify Intermediate CA' });
export const alice = await issueClientCertificate(root, { commonName: 'alice', email: 'alice@example.com' });
export const carol = await issueClientCertificate(intermediate, { commonName: 'carol', email: 'carol@example.com' });

export function trust(overrides: Partial<ClientTrust> = {}): ClientTrust {
  return { caPem: root.certPem, crlPem: '', maxVerifyDepth: 1, matchSubjectAltNames: [], ...overrides };
}

export function refused(result: ReturnType<typeof verifyClientCertificate>, pattern: RegExp): void {
  assert.equal(result.ok, false, 'expected the certificate to be refused');
  if (!result.ok) assert.match(result.reason, pattern);
}
