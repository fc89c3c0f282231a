import { createHash, X509Certificate } from 'node:crypto';
import { certificateBlocks, certificateSubject, type NameAttribute } from '../certificates/index.js';
import {
  crlsForBundle,
  errorAt,
  type CertificateBundle,
  type ClientCertificateRules,
  type ConfigError,
  type RouteConfig,
} from '../config/index.js';
import type { ClientCaRequirement } from './types.js';

type CaRequirement = Extract<ClientCaRequirement, { ca: unknown }>;

/**
 * One host whose routes trust different CAs (or some none). The handshake cannot tell them apart (it sees
 * only the SNI), so it asks for a certificate from the union of the CAs, without requiring one, and each
 * route checks at the HTTP layer that the certificate was issued by a CA of its own (495 otherwise).
 */
export function sharedHostRequirement(
  host: string,
  routes: Array<{ route: RouteConfig; requirement: ClientCaRequirement }>,
  crls: ClientCertificateRules['crls'],
): { requirement: CaRequirement } | { errors: ConfigError[] } {
  const withCa = routes.map((r) => r.requirement).filter((r): r is CaRequirement => 'ca' in r);
  const certs = new Map<string, X509Certificate>();
  for (const r of withCa) for (const c of pemCertificates(r.ca.pem)) certs.set(c.fingerprint256, c);

  // Routes are told apart by the issuer's name, so two CAs with one name would make that ambiguous.
  const bySubject = new Map<string, X509Certificate>();
  const errors: ConfigError[] = [];
  const firstCaRoute = routes.find((r) => 'ca' in r.requirement)!.route;
  for (const c of certs.values()) {
    const subject = certificateSubject(new Uint8Array(c.raw));
    // Envoy prints the issuer in RFC 2253 with its own escaping; plain names are compared exactly, others refused.
    if (!isPlainName(subject.attributes)) {
      errors.push(
        errorAt(
          firstCaRoute.at,
          `host ${host} has routes with different client CAs, and CA "${subject.rfc2253}" has a ` +
            `name with characters (commas, plus signs, non-ASCII…) that the per-route check cannot compare ` +
            `reliably: rename the CA, or give the routes distinct hosts`,
        ),
      );
      continue;
    }
    const other = bySubject.get(subject.rfc2253);
    if (other) {
      errors.push(
        errorAt(
          firstCaRoute.at,
          `host ${host} has routes with different client CAs, and two of those CAs have the same ` +
            `subject (${subject.rfc2253}): give each CA a distinct name, or the routes distinct hosts`,
        ),
      );
    }
    bySubject.set(subject.rfc2253, c);
  }
  if (errors.length > 0) return { errors };

  const fingerprints = [...new Set(withCa.flatMap((r) => r.ca.fingerprints))].sort();
  const ca: CertificateBundle = {
    pem: [...certs.values()].map((c) => c.toString().trim()).join('\n') + '\n',
    fingerprints,
    origin: `the client CAs of ${host}'s routes (${[...new Set(withCa.map((r) => r.ca.origin))].join(', ')})`,
  };
  const base = withCa[0]!.validation;
  return {
    requirement: {
      id: 'ca-union-' + createHash('sha256').update(fingerprints.join(',')).digest('hex').slice(0, 12),
      ca,
      // Only certificates issued directly by a CA of the union: an intermediate under CA A named like CA B
      // would otherwise pass the issuer-name check of B's routes.
      // The CRLs of the union's CAs only: at depth 1 no intermediate's CRL can ever apply.
      validation: { ...base, maxVerifyDepth: 1, crlPem: crlsForBundle(crls, ca), checkedPerRoute: true },
    },
  };
}

/** Subject names of a bundle's certificates as Envoy prints a certificate's issuer (RFC 2253: most specific first). */
export function issuerNames(bundle: CertificateBundle): string[] {
  return pemCertificates(bundle.pem).map((c) => certificateSubject(new Uint8Array(c.raw)).rfc2253);
}

/**
 * A name whose printed form is its plain text: one attribute per RDN, each of a type with a short name and a
 * value of letters, digits, spaces and `._@()'/:-`. Any other name prints with escapes, or as #hex.
 */
function isPlainName(attributes: NameAttribute[]): boolean {
  const rdns = new Set(attributes.map((a) => a.rdn));
  const plain = (a: NameAttribute): boolean =>
    a.shortName !== undefined && /^[A-Za-z0-9 ._@()'/:-]*$/.test(a.text ?? '#');
  return rdns.size === attributes.length && attributes.every(plain);
}

function pemCertificates(pem: string): X509Certificate[] {
  return certificateBlocks(pem).map((block) => new X509Certificate(block));
}
