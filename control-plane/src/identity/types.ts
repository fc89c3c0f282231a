import type { SubjectAltNames } from '../certificates/index.js';

/** What a verified client certificate says about its holder: the only identity this edge knows. */
export interface CertificateIdentity {
  /** Lower-case hex SHA-256 of the DER, no colons (as Envoy's %DOWNSTREAM_PEER_FINGERPRINT_256%). */
  fingerprint: string;
  /** Base64 SHA-256 of the DER SubjectPublicKeyInfo (Pomerium's spki_hash). */
  spkiHash: string;
  /** RFC 2253 distinguished names. */
  subject: string;
  issuer: string;
  /** The subject's common name, if any. */
  commonName?: string;
  /** Each SAN as it is in the certificate (never split on ","); IA5String bytes that are not UTF-8 as U+DC80…U+DCFF. */
  sans: SubjectAltNames;
  /**
   * The first email SAN, else (no email SAN) the most specific common name; only a mail address (dot-atom
   * local part, "@", host name), and none at all when some email SAN holds a comma.
   */
  email?: string;
  /** The first UPN SAN, else the most specific common name. */
  user?: string;
  /** The host name after the "@" of `email`, lower case. */
  domain?: string;
}

/** The claims of an X-Pomerium-Jwt-Assertion, before signing. */
export interface AssertionClaims {
  iss: string;
  aud: string;
  sub: string;
  email?: string;
  user?: string;
  domain?: string;
  /**
   * Extra claims an upstream may ask for through jwt_claims_headers: the certificate's, and on a signed-in route
   * the ID token's (identity/session-assertion.ts).
   */
  [claim: string]: string | string[] | number | boolean | undefined;
}

/** An ES256 signing key with its public half as a JWK (kid = RFC 7638 thumbprint). */
export interface SigningKey {
  privateKeyPem: string;
  kid: string;
  publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string; alg: 'ES256'; use: 'sig' };
}
