import type { ForwardedCertField } from '../../config/index.js';
import type { EdgeModel, EdgeRoute, SignInModel, TlsClass } from '../../model/index.js';
import type {
  envoy_extensions_filters_network_http_connection_manager_v3 as hcm_v3,
  google_protobuf,
} from '../../envoy-api/index.js';
import type { NamedResource } from '../../envoy-api/index.js';

/** One entry of the connection manager's `http_filters`. */
export type HttpFilter = hcm_v3.HttpFilter;

/** One filter chain of the listener (one TLS class), and the model-wide settings its filters read. */
export interface ChainContext {
  tlsClass: TlsClass;
  /** Requests on this chain (some or all) are checked for a client certificate at the HTTP layer. */
  checksClientCertificates: boolean;
  /**
   * TLS sessions resume on this chain (session-resumption.ts): its handshake verifies every certificate, so one that
   * Envoy did not verify on the connection is a resumed session's, verified when the session was made.
   */
  resumesSessions: boolean;
  /** jwt_claims_headers names (lower case): only this edge may set them. */
  claimHeaders: string[];
  forwardClientCert: ForwardedCertField[];
  /** The access log has an `authority` field (it reads the :authority the client sent, kept in filter state). */
  logsAuthority: boolean;
  /** Sign-in with an identity provider, when configured. */
  signIn?: SignInModel;
}

/** What a route needs to know of its chain (the stale-trust template serves the hosts of several chains). */
export type RouteChain = Pick<ChainContext, 'checksClientCertificates' | 'resumesSessions' | 'signIn'>;

/** The answers the edge gives itself on every host: 421 for another chain's host, its health check, the JWKS. */
export type EdgeAnswer = 'misdirected' | 'edge-health' | 'jwks' | 'sign-in';

/**
 * What Envoy knows of the certificate on the connections a host route serves:
 * - `handshake`: verified at this connection's own handshake, against the chain's current trust;
 * - `resumed`: a TLS session resumed on the chain (session-resumption.ts), verified when it was made, under the
 *   same trust, but maybe long ago: the ext_authz service verifies the certificate again (its expiry too);
 * - `stale-trust`: made under an older trust (stale-route-configuration.ts): verified again against the current one.
 */
export type CertificateOnConnection = 'handshake' | 'resumed' | 'stale-trust';

/** Which route a per-route config is for, and on which chain. */
export type RouteContext =
  | { kind: 'host-route'; route: EdgeRoute; chain: RouteChain; certificate: CertificateOnConnection }
  | { kind: EdgeAnswer; chain: RouteChain };

/** Resources a filter needs beside the listener and the routes (a cluster it calls, a secret it reads). */
export interface FilterResources {
  clusters?: NamedResource<'cluster'>[];
  secrets?: NamedResource<'secret'>[];
}

/**
 * One HTTP filter: its entry in the connection manager's `http_filters` (none: the filter is not on this chain;
 * the entry's `name` must be the filter's), its config for one route (none: the route leaves the filter as the
 * chain configures it) and the resources it needs. The registry (registry.ts) puts the entries in order and
 * files each per-route config under the filter's own name.
 */
export interface HttpFilterModule<Name extends string = string> {
  readonly name: Name;
  connectionManagerEntry(chain: ChainContext): HttpFilter | undefined;
  perRoute?: (route: RouteContext) => google_protobuf.Any | undefined;
  resources?(model: EdgeModel): FilterResources;
}
