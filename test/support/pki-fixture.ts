import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
} from '../../control-plane/src/pki/index.js';

export const HOSTS = { x: 'x.mtls.test', y: 'y.mtls.test', z: 'z.mtls.test' } as const;

export interface ClientCert {
  cert: string;
  key: string;
}

/** Every file a test needs, written to `dir`: two CAs, an intermediate, a server certificate and clients. */
export interface TestPki {
  dir: string;
  /** CA A itself, and its intermediate, to issue more certificates in a test. */
  caAuthority: CertificateAuthority;
  intermediateA: CertificateAuthority;
  /** Files in `dir`: ca-a.pem, ca-b.pem, server.pem, server-key.pem. */
  caA: string;
  caB: string;
  serverCert: string;
  serverKey: string;
  clientA: ClientCert;
  /** Issued by an intermediate under CA A; `cert` carries the leaf and the intermediate. */
  clientAViaIntermediate: ClientCert;
  clientB: ClientCert;
  expiredA: ClientCert;
}

export async function createTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-test-'));
  const caA = await createRootCa({ commonName: 'Test CA A' });
  const caB = await createRootCa({ commonName: 'Test CA B' });
  const intermediate = await createIntermediateCa(caA, { commonName: 'Test Intermediate A1' });
  const server = await issueServerCertificate(caA, { dnsNames: Object.values(HOSTS) });
  const clientA = await issueClientCertificate(caA, { commonName: 'alice', email: 'alice@example.com' });
  const viaIntermediate = await issueClientCertificate(intermediate, {
    commonName: 'carol',
    email: 'carol@example.com',
  });
  const clientB = await issueClientCertificate(caB, { commonName: 'bob', email: 'bob@example.com' });
  const day = 24 * 3600 * 1000;
  const expired = await issueClientCertificate(caA, {
    commonName: 'eve',
    notBefore: new Date(Date.now() - 10 * day),
    notAfter: new Date(Date.now() - day),
  });

  writeFileSync(join(dir, 'ca-a.pem'), caA.certPem);
  writeFileSync(join(dir, 'ca-b.pem'), caB.certPem);
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem, { mode: 0o600 });
  return {
    dir,
    caAuthority: caA,
    intermediateA: intermediate,
    caA: caA.certPem,
    caB: caB.certPem,
    serverCert: server.chainPem,
    serverKey: server.keyPem,
    clientA: { cert: clientA.certPem, key: clientA.keyPem },
    clientAViaIntermediate: { cert: viaIntermediate.chainPem, key: viaIntermediate.keyPem },
    clientB: { cert: clientB.certPem, key: clientB.keyPem },
    expiredA: { cert: expired.certPem, key: expired.keyPem },
  };
}
