import type { SanMatcher } from '../certificates/index.js';
import type { Location } from '../source/diagnostics.js';
import type { RoutePolicy } from '../policy/index.js';

export interface SocketAddress {
  host: string;
  port: number;
}

/** One or more PEM certificates (a CA bundle), parsed and fingerprinted. */
export interface CertificateBundle {
  pem: string;
  /** SHA-256 fingerprints of every certificate, sorted: two bundles with the same set are the same CA. */
  fingerprints: readonly string[];
  /** What the user wrote, e.g. `client_ca_file (ca.pem)`, for messages. */
  origin: string;
}

export interface ServerCertificate {
  /** Leaf first, then any intermediates. */
  certPem: string;
  keyPem: string;
  /** DNS names the leaf is valid for (SAN dNSName, else the CN), lower case; may hold wildcards. */
  dnsNames: string[];
  notAfter: Date;
  at: Location;
}

/** Pomerium's `downstream_mtls.enforcement`: where a missing or invalid client certificate is stopped. */
export type Enforcement = 'policy_with_default_deny' | 'policy' | 'reject_connection';

// Defined with the certificates it matches (identity/ checks it too, and imports nothing from config/).
export type { SanMatcher };

/** What every client certificate is checked against, whichever CA (global or a route's) it must chain to. */
export interface ClientCertificateRules {
  enforcement: Enforcement;
  /** Certificates between the leaf and the CA allowed, plus one (Envoy's meaning); 0 = no limit. */
  maxVerifyDepth: number;
  crls: Array<{ pem: string; issuer: string }>;
  /** Where downstream_mtls.crl[_file] is set (absent: no CRL), for errors about its CRLs. */
  crlAt?: Location;
  /** A certificate passes when any matcher matches one of its SANs; none = no SAN check. */
  matchSubjectAltNames: SanMatcher[];
}

/** A piece of a `set_request_headers` value: text, a property of the client certificate, or a request header. */
export type HeaderValuePart =
  { text: string } | { clientCert: 'fingerprint' | 'san_dns' | 'san_email' } | { requestHeader: string };

/** Fields of the verified client certificate forwarded in x-forwarded-client-cert (always with By and Hash). */
export type ForwardedCertField = 'subject' | 'uri' | 'dns' | 'cert' | 'chain';

export type RouteMatch =
  { kind: 'prefix'; value: string } | { kind: 'path'; value: string } | { kind: 'regex'; value: string };

/** Shared by the routes that give the same `to` text (config/route.ts): never changed once read. */
export interface UpstreamUrl {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

/** The certificate the edge presents to an upstream that asks for one (`tls_client_cert[_file]` and its key). */
export interface UpstreamClientCertificate {
  /** Leaf first, then any intermediates. */
  certPem: string;
  keyPem: string;
  /**
   * Where it comes from: the file paths as written, or the inline certificate's fingerprint. Routes with the same
   * source share one SDS secret, and replacing the files keeps its name, so that a rotation changes only the secret.
   */
  source: string;
  /** The leaf's subject, for messages. */
  subject: string;
}

export interface UpstreamTls {
  skipVerify: boolean;
  /** `tls_upstream_server_name`, or its older name `tls_server_name`. */
  serverName?: string;
  customCa?: CertificateBundle;
  clientCertificate?: UpstreamClientCertificate;
  /** `tls_upstream_allow_renegotiation`: the upstream may start a TLS renegotiation (TLS 1.2 and older). */
  allowRenegotiation: boolean;
}

/**
 * Who may use a route once its TLS requirement is met: anyone, any valid client certificate, or whoever the
 * route's `policy` allows (allow_any_authenticated_user with a policy is an extra allow clause of it).
 */
export type RouteAccess = 'public' | 'any_authenticated_user' | 'policy';

export type {
  CertificateCondition,
  PolicyClause,
  PolicyCriterion,
  RoutePolicy,
  StringMatcher,
} from '../policy/index.js';

export interface RouteConfig {
  /** Position in `routes`, kept so output order follows the user's order. */
  index: number;
  at: Location;
  from: { host: string };
  to: UpstreamUrl[];
  /**
   * Path of the `to` URL; as in Pomerium it replaces the leading "/" of the request path (`/api/` + `/x` → `/api/x`).
   */
  toPathPrefix?: string;
  match: RouteMatch;
  prefixRewrite?: string;
  preserveHostHeader: boolean;
  setRequestHeaders: Array<[string, HeaderValuePart[]]>;
  removeRequestHeaders: string[];
  /** Upstream response timeout; 0 disables it. */
  timeoutMs: number;
  upstreamTls: UpstreamTls;
  /** The route's own client CA (`tls_downstream_client_ca[_file]`), which replaces the global one. */
  clientCa?: CertificateBundle;
  access: RouteAccess;
  /** Present when the route has `policy`; with access `any_authenticated_user` its allow also holds that clause. */
  policy?: RoutePolicy;
  /** `pass_identity_headers`: the upstream gets X-Pomerium-Jwt-Assertion and the X-Pomerium-Claim-* headers. */
  passIdentityHeaders: boolean;
  /** The route needs sign-in (its policy reads the ID token): Envoy runs the code flow and validates the token. */
  signIn: boolean;
}

/** xDS and ext_authz over mutual TLS: the control plane's certificate, and the CA whose certificates Envoys present. */
export interface ControlChannelTls {
  /** Leaf first, then intermediates. */
  certPem: string;
  keyPem: string;
  clientCaPem: string;
  /** SHA-256 of each CA in `clientCaPem`: it must share none with the users' client CAs. */
  clientCaFingerprints: readonly string[];
  /** Node ids a fleet certificate may claim (sorted); a per-Envoy certificate names its own. */
  nodeIds: string[];
}

/** `signing_key` / `signing_key_file`: one or more PEM EC P-256 private keys (ES256), as Pomerium takes them. */
export interface SigningKeyInput {
  /** The key that signs, as PKCS#8 PEM: the first of the option's keys. */
  pem: string;
  /** The option's other keys, published in the JWKS but never used to sign: the keys being rotated out (or in). */
  others: string[];
  at: Location;
}

/** Sign-in with an OpenID Connect provider (config/identity-provider.ts): Envoy runs the flow and checks tokens. */
export interface IdentityProviderConfig {
  provider: 'oidc';
  /** `idp_provider_url` as written: the issuer its discovery document must name. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Always holds `openid`. */
  scopes: string[];
  /** 32 bytes: the key that signs (HMAC) and encrypts the session cookies. */
  cookieSecret: Buffer;
  cookieName: string;
  /** The session's lifetime when the provider gives its tokens none. */
  cookieExpireSeconds: number;
  /** Lower case, without a leading dot; absent: each cookie belongs to the host that set it. */
  cookieDomain?: string;
  cookieSameSite: 'lax' | 'none';
  /** The origin (`https://auth.example.com`) whose callback every route's sign-in returns to; absent: each host's. */
  authenticateServiceUrl?: string;
  /** The ID token claim that holds the user's groups. */
  groupsClaim: string;
  /** How often the discovery document and keys are read again (a new key then reaches Envoy). */
  refreshMs: number;
  /** Where idp_provider_url is written, for errors found at run time (discovery). */
  at: Location;
}

export interface Config {
  /** Absolute path of the YAML file (or `(environment)` when there is none). */
  sourceFile: string;
  address: SocketAddress;
  adminAddress: SocketAddress;
  xdsAddress: SocketAddress;
  /** False when `xds_address` is the default: `run` then serves its child Envoy over a private socket only. */
  xdsAddressConfigured: boolean;
  /** The control channel over mutual TLS; required for every Envoy that is not `run`'s own child. */
  xdsTls?: ControlChannelTls;
  envoyAdminAddress: SocketAddress;
  /** Each Envoy's own listener for load balancers and probes: GET /healthz, 503 once it shuts down. Off if unset. */
  envoyHealthAddress?: SocketAddress;
  /** Each Envoy's listener for Prometheus: GET /metrics (Envoy's stats, not the admin port). Off if unset. */
  metricsAddress?: SocketAddress;
  certificates: ServerCertificate[];
  clientCa?: CertificateBundle;
  clientCertificateRules: ClientCertificateRules;
  /** Empty: x-forwarded-client-cert is only removed from requests; else set from the verified certificate. */
  forwardClientCert: ForwardedCertField[];
  /**
   * What https upstreams are verified against unless a route has its own CA: the system roots plus
   * `certificate_authority`.
   */
  upstreamTrustPem: string;
  routes: RouteConfig[];
  /** From `signing_key` or `signing_key_file`; absent: `run` generates one and keeps it on disk (not `--no-envoy`). */
  signingKey?: SigningKeyInput;
  /** `jwt_claims_headers`: [header name, claim] pairs, e.g. ['X-Pomerium-Claim-Email', 'email']. */
  jwtClaimsHeaders: Array<[string, string]>;
  /** `access_log_fields`: the field names each access log line holds, in order; empty: no access log. */
  accessLogFields: string[];
  /** Sign-in with an identity provider (idp_*); absent: identity comes from client certificates alone. */
  identityProvider?: IdentityProviderConfig;
  /** `public_https_port`: the port browsers reach the edge on (a load balancer's); absent: `address`'s. */
  publicHttpsPort?: number;
}
