import type { RoutePolicy } from '../config/index.js';
import type { ClientTrust } from '../identity/verify-certificate.js';

/** What the ext_authz service must know of a route Envoy sends to it (by name, in the check's context_extensions). */
export interface AuthorizationRoute {
  /** What Envoy sends as context_extensions.route: `route-3.<digest of this entry>` (model/authorization.ts). */
  name: string;
  /** The route's `from` host: the JWT's iss and aud. */
  audience: string;
  /** The whole effective policy (allow_any_authenticated_user folded in; public routes: allow accept). */
  policy: RoutePolicy;
  passIdentityHeaders: boolean;
  /** [header name, claim] pairs from jwt_claims_headers. */
  claimsHeaders: Array<[string, string]>;
  /** The route trusts a client CA: without a valid certificate, invalid_client_certificate holds. */
  clientCaRequired: boolean;
  /**
   * What a client certificate must pass on this route, as Envoy's handshake and route checks apply it
   * (model/requirement.ts); absent when the route asks for no client certificate. The service verifies
   * every certificate it is sent against it before deciding or signing.
   */
  clientTrust?: ClientTrust;
}

/** Every route Envoy may ask about, rebuilt with each snapshot. */
export type AuthorizationTable = ReadonlyMap<string, AuthorizationRoute>;
