// Certificates, CRLs and PEM text, read as Envoy (BoringSSL) reads them. The bottom of the control plane:
// this module imports nothing from config/, model/, translate/, xds/, identity/ or policy/.
export { readCertificateFields } from './certificate-fields.js';
export { crlIssuerName, parseCrl, type ParsedCrl } from './crl.js';
export {
  certificateSubject,
  printName,
  readName,
  readNameAttributes,
  type NameAttribute,
} from './distinguished-name.js';
export { comparableHostName, isMailAddress, normaliseHostName, type HostNamePart } from './host-names.js';
export {
  isoSeconds,
  KEY_USAGE,
  OID_CLIENT_AUTH,
  parseCertificate,
  subjectAltNames,
  type ParsedCertificate,
} from './parsed-certificate.js';
export {
  certificateBlocks,
  certificateDnsNames,
  certificateFingerprint,
  certificatesToPem,
  decodeInlinePem,
  fingerprint,
  parseCertificates,
  parsePrivateKey,
  pemBlocks,
  pemDer,
} from './pem.js';
export { type SanKind, type SanMatcher, type SubjectAltNames } from './subject-alt-names.js';
