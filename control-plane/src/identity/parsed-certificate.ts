// One certificate, read once into what chain verification (verify-certificate.ts) looks at.
//
// Node's X509Certificate checks issuance (names, key identifiers, the issuer's keyCertSign) and
// signatures with OpenSSL; @peculiar/x509 reads the extensions Node does not expose.
import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { SanMatcher } from '../config/index.js';
import { children, readTlv, SEQUENCE } from './der.js';

export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const OID_NAME_CONSTRAINTS = '2.5.29.30';

/**
 * Extensions BoringSSL understands when they are critical (x509v3 "supported" list). A certificate with any
 * other critical extension fails verification there (X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION), so here too.
 */
const HANDLED_CRITICAL = new Set([
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.30', // nameConstraints (refused below: not evaluated here)
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  '2.5.29.36', // policyConstraints
  '2.5.29.54', // inhibitAnyPolicy
  '1.3.6.1.5.5.7.1.14', // proxyCertInfo
  '2.16.840.1.113730.1.1', // Netscape cert type
]);

export interface ParsedCertificate {
  node: X509Certificate;
  lib: x509.X509Certificate;
  /** Lower-case hex SHA-256 of the DER, no colons. */
  fingerprint: string;
  /** Subject as people read it (for reasons). */
  name: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** basicConstraints cA. */
  isCa: boolean;
  /** basicConstraints pathLenConstraint, when set. */
  pathLength?: number;
  /** keyUsage flags (x509.KeyUsageFlags), when the extension is present. */
  keyUsage?: number;
  /** extKeyUsage OIDs, when the extension is present. */
  extendedKeyUsage?: string[];
  /** An OID of a critical extension BoringSSL would not handle, if any. */
  unhandledCritical?: string;
  hasNameConstraints: boolean;
}

export function parseCertificate(pem: string): ParsedCertificate {
  const node = new X509Certificate(pem);
  const lib = new x509.X509Certificate(node.raw);
  const basic = lib.getExtension(x509.BasicConstraintsExtension);
  const usage = lib.getExtension(x509.KeyUsagesExtension);
  const extended = lib.getExtension(x509.ExtendedKeyUsageExtension);
  const unhandled = lib.extensions.find((e) => e.critical && !HANDLED_CRITICAL.has(e.type));
  const parsed: ParsedCertificate = {
    node,
    lib,
    fingerprint: node.fingerprint256.replace(/:/g, '').toLowerCase(),
    name: lib.subject || '(empty subject)',
    notBeforeMs: lib.notBefore.getTime(),
    notAfterMs: lib.notAfter.getTime(),
    isCa: basic?.ca === true,
    hasNameConstraints: lib.extensions.some((e) => e.type === OID_NAME_CONSTRAINTS),
  };
  if (basic?.pathLength !== undefined) parsed.pathLength = basic.pathLength;
  if (usage) parsed.keyUsage = usage.usages;
  if (extended) parsed.extendedKeyUsage = extended.usages.map(String);
  if (unhandled) parsed.unhandledCritical = unhandled.type;
  return parsed;
}

const SAN_KINDS: Partial<Record<x509.GeneralNameType, SanMatcher['type']>> = { dns: 'dns', email: 'email', url: 'uri', ip: 'ip_address', upn: 'user_principal_name' };

/**
 * The SANs of a certificate, each whole, as Envoy's match_subject_alt_names sees them (not split on commas
 * like the lists its formatters join). Entries of kinds nothing matches on are skipped.
 */
export function subjectAltNames(cert: ParsedCertificate): Record<SanMatcher['type'], string[]> {
  const out: Record<SanMatcher['type'], string[]> = { dns: [], email: [], uri: [], ip_address: [], user_principal_name: [] };
  for (const extension of cert.lib.extensions) {
    if (extension.type !== '2.5.29.17') continue;
    const der = new Uint8Array(extension.value);
    const names = readTlv(der, 0, der.length);
    if (names.tag !== SEQUENCE) throw new Error('invalid subjectAltName extension');
    for (const entry of children(der, names)) {
      let name: x509.GeneralName;
      try {
        name = new x509.GeneralName(der.slice(entry.start, entry.end));
      } catch {
        continue;
      }
      const kind = SAN_KINDS[name.type];
      if (kind === 'ip_address') out[kind].push(name.value.includes(':') ? new URL(`http://[${name.value}]`).hostname.slice(1, -1) : name.value);
      else if (kind !== undefined) out[kind].push(name.value);
    }
  }
  return out;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every PEM certificate block in `text`, in order. */
export function certificateBlocks(text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)].map((m) => m[0]);
}

/** Dates in reasons: ISO 8601, to the second. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
