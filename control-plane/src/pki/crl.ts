// CRLs for the small PKI, in the shape BoringSSL (Envoy) and OpenSSL both load.
import * as x509 from '@peculiar/x509';
import {
  DAY_MS,
  derPositiveInteger,
  HOUR_MS,
  libKey,
  SIGNING_ALG,
  subjectKeyId,
  toPem,
  type CertificateAuthority,
} from './signing.js';

export async function createCrl(
  issuer: CertificateAuthority,
  revokedSerialsHex: string[],
  opts: { thisUpdate?: Date; nextUpdate?: Date } = {},
): Promise<string> {
  const now = Date.now();
  // Backdated like certificates, to tolerate clock skew between generator and proxy. Whole
  // seconds because the invalidityDate below is written with any milliseconds as a fraction,
  // which RFC 5280 forbids.
  const thisUpdate = new Date(Math.floor((opts.thisUpdate?.getTime() ?? now - HOUR_MS) / 1000) * 1000);
  // An expired CRL makes BoringSSL reject every client, so default to the certificates' lifetime.
  const nextUpdate = opts.nextUpdate ?? new Date(now + 365 * DAY_MS);
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subjectName,
    thisUpdate,
    nextUpdate,
    signingKey: libKey(issuer.keys.privateKey),
    signingAlgorithm: SIGNING_ALG,
    // RFC 5280 requires both; the CRL number is time-based so successive CRLs increase.
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(subjectKeyId(issuer.cert)),
      new x509.Extension('2.5.29.20', false, derPositiveInteger(Math.floor(thisUpdate.getTime() / 1000).toString(16))),
    ],
    entries: revokedSerialsHex.map((serial) => ({
      // The generator copies entry serials verbatim, so they must already be minimal DER.
      serialNumber: Buffer.from(derPositiveInteger(serial).subarray(2)).toString('hex'),
      revocationDate: thisUpdate,
      // Without any entry extension the generator writes an empty crlEntryExtensions SEQUENCE,
      // which BoringSSL (Envoy: "Failed to load CRL") rejects; an invalidityDate equal to the
      // revocation date is truthful and keeps the list non-empty. OpenSSL accepts either.
      invalidity: thisUpdate,
    })),
  });
  return toPem(crl.rawData, 'X509 CRL');
}
