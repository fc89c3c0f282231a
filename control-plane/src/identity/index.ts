export type { CertificateIdentity, SigningKey } from './types.js';
export {
  certificateIdentity,
  clearIdentityCache,
  identityFromEnvoyCertificate,
  MAX_CACHED_IDENTITIES,
} from './certificate-identity.js';
export { defaultSigningKeyPath, loadOrCreateSigningKey, signingKeyFromPem } from './signing-key.js';
export { AssertionSigner, buildAssertionClaims, claimHeaderValue, jwks } from './assertion.js';
export { buildSessionAssertionClaims, CERTIFICATE_CLAIMS, EDGE_SET_CLAIMS } from './session-assertion.js';
