import { X509Certificate } from 'node:crypto';
import { certificateBlocks, certificateSubject } from '../certificates/index.js';
import type { CertificateBundle } from './types.js';

/**
 * Every configured client CA (global and per route), to tell what a CRL's issuer is to one bundle: one of its
 * own CAs, a configured CA issued under it (an intermediate that is also some route's CA), another bundle's
 * CA (nothing to it), or no configured CA at all (an intermediate the config does not show).
 */
export interface ConfiguredClientCas {
  subjects: ReadonlySet<string>;
  /**
   * Whether a configured CA with this subject is issued, directly or through other configured CAs, by one of the
   * bundle's.
   */
  issuedUnder(issuerSubject: string, bundle: CertificateBundle): boolean;
}

export function configuredClientCas(bundles: Iterable<CertificateBundle | undefined>): ConfiguredClientCas {
  const certs = new Map<string, CaCertificate>();
  for (const b of bundles) if (b) for (const c of bundleCertificates(b)) certs.set(c.cert.fingerprint256, c);
  const all = [...certs.values()];
  const subjects = new Set(all.map((c) => c.subject));
  const answers = new Map<string, boolean>();
  return {
    subjects,
    issuedUnder(issuerSubject, bundle) {
      const key = `${issuerSubject}\0${bundle.fingerprints.join(',')}`;
      let answer = answers.get(key);
      if (answer === undefined) {
        const cert = (c: CaCertificate) => c.cert;
        answer = reachesBundle(
          all.filter((c) => c.subject === issuerSubject).map(cert),
          all.map(cert),
          bundleCertificates(bundle).map(cert),
        );
        answers.set(key, answer);
      }
      return answer;
    },
  };
}

/** A path upwards from one of `start`, through configured CAs, to a certificate of the bundle (signatures checked). */
function reachesBundle(start: X509Certificate[], all: X509Certificate[], bundle: X509Certificate[]): boolean {
  const issued = (child: X509Certificate, parent: X509Certificate) =>
    child.fingerprint256 !== parent.fingerprint256 && child.checkIssued(parent) && child.verify(parent.publicKey);
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (seen.has(c.fingerprint256)) continue;
    seen.add(c.fingerprint256);
    if (bundle.some((b) => issued(c, b))) return true;
    for (const parent of all) if (!seen.has(parent.fingerprint256) && issued(c, parent)) queue.push(parent);
  }
  return false;
}

/** The subject as Envoy prints it, as the CRLs' issuers are (config/downstream-mtls.ts), and the certificate. */
interface CaCertificate {
  subject: string;
  cert: X509Certificate;
}

const certificatesByBundle = new WeakMap<CertificateBundle, CaCertificate[]>();

function bundleCertificates(bundle: CertificateBundle): CaCertificate[] {
  let certs = certificatesByBundle.get(bundle);
  if (!certs) {
    certs = certificateBlocks(bundle.pem).map((pem) => {
      const cert = new X509Certificate(pem);
      return { subject: certificateSubject(new Uint8Array(cert.raw)).rfc2253, cert };
    });
    certificatesByBundle.set(bundle, certs);
  }
  return certs;
}
