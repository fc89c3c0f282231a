export type { AssertionClaims, CertificateIdentity, SigningKey } from './types.js';
export {
  certificateIdentity,
  clearIdentityCache,
  identityFromEnvoyCertificate,
  MAX_CACHED_IDENTITIES,
} from './certificate-identity.js';
export {
  defaultSigningKeyPath,
  loadOrCreateSigningKey,
  signingKeyFromPem,
  SIGNING_KEY_FILE,
  type Fallible,
} from './signing-key.js';
export {
  AssertionSigner,
  buildAssertionClaims,
  claimHeaderValue,
  DEFAULT_ASSERTION_LIFETIME_SECONDS,
  jwks,
} from './assertion.js';
