import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCrl,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  type Issued,
} from '../../control-plane/src/pki/index.js';
import { HOSTS, type ClientCert } from './pki-fixture.js';

/** Two client CAs, each with a CRL that revokes one of its certificates, and a server certificate for HOSTS. */
export interface CrlPki {
  dir: string;
  /** Absolute paths of the files written to `dir`. */
  files: { ca1: string; ca2: string; crls: string; serverCert: string; serverKey: string };
  /** Trust anchor for the server certificate. */
  serverCa: string;
  good1: ClientCert;
  revoked1: ClientCert;
  good2: ClientCert;
  revoked2: ClientCert;
}

const client = (c: Issued): ClientCert => ({ cert: c.certPem, key: c.keyPem });

export async function createCrlPki(): Promise<CrlPki> {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-crl-'));
  // Plain, distinct names: a shared host's routes tell their CAs apart by the issuer's name.
  const ca1 = await createRootCa({ commonName: 'CRL Test CA 1' });
  const ca2 = await createRootCa({ commonName: 'CRL Test CA 2' });
  const serverCa = await createRootCa({ commonName: 'CRL Test Server CA' });
  const server = await issueServerCertificate(serverCa, { dnsNames: Object.values(HOSTS) });
  const good1 = await issueClientCertificate(ca1, { commonName: 'good one' });
  const revoked1 = await issueClientCertificate(ca1, { commonName: 'revoked one' });
  const good2 = await issueClientCertificate(ca2, { commonName: 'good two' });
  const revoked2 = await issueClientCertificate(ca2, { commonName: 'revoked two' });
  // Each CA's CRL revokes only its own certificate: a CRL missing from a validation context shows as a
  // revoked certificate let through (or, under BoringSSL's CRL check, every certificate of that CA refused).
  const crls = (await createCrl(ca1, [revoked1.serialHex])) + (await createCrl(ca2, [revoked2.serialHex]));

  const files = {
    ca1: join(dir, 'ca-1.pem'),
    ca2: join(dir, 'ca-2.pem'),
    crls: join(dir, 'crls.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
  };
  writeFileSync(files.ca1, ca1.certPem);
  writeFileSync(files.ca2, ca2.certPem);
  writeFileSync(files.crls, crls);
  writeFileSync(files.serverCert, server.chainPem);
  writeFileSync(files.serverKey, server.keyPem, { mode: 0o600 });
  return {
    dir,
    files,
    serverCa: serverCa.certPem,
    good1: client(good1),
    revoked1: client(revoked1),
    good2: client(good2),
    revoked2: client(revoked2),
  };
}
