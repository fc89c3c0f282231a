import type { CertificateIdentity } from '../identity/types.js';

/** What a policy can look at for one request. */
export interface RequestFacts {
  method: string;
  /** The request path without its query string. */
  path: string;
  /** The client certificate's identity; absent when none was presented, or it is not valid for the route. */
  identity?: CertificateIdentity;
  /** Pomerium's invalid_client_certificate: the route trusts a client CA and the request has no valid certificate for it. */
  invalidClientCertificate: boolean;
}

/** An allow or deny, with a sentence a person can read on the 403 page. */
export interface Decision {
  allowed: boolean;
  reason: string;
}
