import type {
  IdentityProviderConfig,
  CertificateBundle,
  Enforcement,
  ForwardedCertField,
  HeaderValuePart,
  RouteAccess,
  RoutePolicy,
  SanMatcher,
  RouteMatch,
  ServerCertificate,
  SocketAddress,
  UpstreamTls,
  UpstreamUrl,
} from '../config/index.js';
import type { ClientTrust } from '../identity/verify-certificate.js';
import type { PeerProperty } from '../policy/index.js';

export type { PeerProperty };

/** What a TLS handshake must prove: nothing, or a client certificate that chains to `ca`. */
export type ClientCaRequirement =
  { id: 'none' } | { id: string; ca: CertificateBundle; validation: ClientCertificateValidation };

/** How Envoy validates a client certificate for one CA: the global downstream_mtls rules, applied to that CA. */
interface ClientCertificateValidation {
  enforcement: Enforcement;
  /** The CRLs Envoy checks for this bundle (PEM): its CAs' and, when intermediates may issue, intermediates'. */
  crlPem: string;
  /** The CRLs issued by a CA of this bundle only: what a trust of direct issuers (a shared host's route) checks. */
  directIssuerCrlPem: string;
  maxVerifyDepth: number;
  matchSubjectAltNames: SanMatcher[];
  /** Routes of one host trust different CAs: the handshake only asks, each route checks (see shared-host.ts). */
  checkedPerRoute?: boolean;
}

/**
 * What a route checks at the HTTP layer: nothing, a validated certificate, or one issued by one of `issuers`.
 * `none` with `issuers` (a shared host): no certificate needed, but only one from those issuers counts as valid.
 */
export type CertificateCheck =
  { kind: 'none'; issuers?: string[] } | { kind: 'valid' } | { kind: 'issued-by'; issuers: string[] };

/**
 * Who decides a route's policy: nobody (no policy), Envoy itself (RBAC over the request and the certificate),
 * or the control plane's ext_authz service (criteria Envoy cannot test, and every route that signs identity JWTs).
 */
export type RouteAuthorization =
  | { kind: 'none' }
  | { kind: 'envoy'; policy: RoutePolicy; clientCaRequired: boolean; peerProperties: PeerProperty[] }
  | { kind: 'ext-authz'; key: string; peerProperties: PeerProperty[] };

export type PathRewrite = { kind: 'prefix'; value: string } | { kind: 'replace-leading-slash'; value: string };

export interface EdgeRoute {
  /** Stable name from the route's position in the config, e.g. `route-3`. */
  name: string;
  match: RouteMatch;
  rewrite?: PathRewrite;
  preserveHostHeader: boolean;
  setRequestHeaders: Array<[string, HeaderValuePart[]]>;
  removeRequestHeaders: string[];
  timeoutMs: number;
  upstream: string;
  access: RouteAccess;
  /**
   * Checked at the HTTP layer (495), under the two policy enforcements and on hosts whose routes trust different CAs.
   */
  certificateCheck: CertificateCheck;
  authorization: RouteAuthorization;
  /** Sign-in first: Envoy runs the code flow for a request without a valid session, and validates its ID token. */
  signIn: boolean;
  /**
   * The ext_authz route key that re-verifies the client certificate against the route's current trust, for
   * requests on connections made under an older trust (absent: the route's host asks for no certificate).
   */
  trustCheck?: string;
}

export interface EdgeHost {
  /** Lower-case host name; `*.example.com` for a wildcard. */
  name: string;
  requirement: ClientCaRequirement;
  routes: EdgeRoute[];
}

/** Hosts that share one client-certificate requirement: one filter chain and one route configuration. */
export interface TlsClass {
  requirement: ClientCaRequirement;
  hosts: EdgeHost[];
  /** Hosts of other classes that a wildcard of this class would otherwise answer for: they get 421. */
  misdirectedHosts: string[];
  /**
   * `["h2", "http/1.1"]`, or only HTTP/1.1 where a server certificate also covers another class (DESIGN.md point 8).
   */
  alpn: string[];
}

export interface Upstream {
  name: string;
  endpoints: UpstreamUrl[];
  /** Present for https upstreams. */
  tls?: UpstreamTls & {
    sni?: string;
    /** Names the upstream certificate must carry (any one of them): tls_upstream_server_name, else each `to` host. */
    expectedSans: Array<{ type: 'DNS' | 'IP_ADDRESS'; value: string }>;
  };
}

export interface EdgeModel {
  address: SocketAddress;
  forwardClientCert: ForwardedCertField[];
  /** Trust for https upstreams without a CA of their own (system roots + certificate_authority). */
  upstreamTrustPem: string;
  serverCertificates: ServerCertificate[];
  /** Sorted by requirement id; the `none` class, if any, first. */
  classes: TlsClass[];
  upstreams: Upstream[];
  /** The routes the ext_authz service decides, by route name. */
  authorizationRoutes: AuthorizationRoute[];
  /** jwt_claims_headers names, lower case: a client's own copies are removed on every route. */
  claimHeaders: string[];
  /** access_log_fields: the fields of each access log line, in order (empty: no access log). */
  accessLogFields: string[];
  /** The JSON Web Key Set served at /.well-known/pomerium/jwks.json on every host (absent: no signing key given). */
  jwks?: string;
  /** Sign-in with an identity provider (idp_provider_url); absent: no route signs anyone in. */
  signIn?: SignInModel;
}

/** What the provider's discovery document says (runtime/oidc-discovery.ts reads it; the model only carries it). */
export interface ProviderEndpoints {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  endSessionEndpoint?: string;
  /** The provider's public keys, as canonical JSON: Envoy validates ID tokens with them (no fetch of its own). */
  jwksJson: string;
}

export interface SignInModel {
  config: IdentityProviderConfig;
  /**
   * This edge's origin as the browser reached it, as an Envoy format string (`https://%REQ(:authority)%:8443`): the
   * callback, the way back after sign-in and after sign-out are under it.
   */
  origin: string;
  /**
   * The edge's host names (`*.example.com` for a wildcard): the only pages a sign-in may return to. The page is in
   * the flow's state, which the browser carries; Envoy's oauth2 filter checks it against these.
   */
  redirectHosts: string[];
  /** Absent while the provider could not be read at start: signed-in routes answer 503 until it can. */
  provider?: ProviderEndpoints;
  /** The cluster Envoy exchanges codes at (the token endpoint's host). */
  tokenEndpoint?: Upstream;
}

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
  /**
   * The route needs sign-in (its policy reads the ID token): the service decides with the session Envoy validated,
   * and the assertion names the signed-in user; `groupsClaim` is the token's groups claim (idp_groups_claim).
   * Absent on every other route, so that their names (digests of this entry) stay what they were.
   */
  signIn?: { groupsClaim: string };
}
