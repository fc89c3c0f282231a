import type { EdgeRoute, TlsClass } from '../model/index.js';
import type {
  envoy_config_route_v3 as route_v3,
  envoy_extensions_transport_sockets_tls_v3,
} from '../envoy-api/index.js';
import { duration } from './common.js';
import { checksClientCertificates } from './http-filters/index.js';

/**
 * TLS session resumption (DESIGN.md, TLS point 7). A session resumes only on the filter chain that made it: Envoy
 * keeps each chain's session cache and ticket keys in that chain's own TLS context, and a chain whose trust changes
 * is a new chain (model/trust.ts), so a session never crosses chains nor outlives a narrowing.
 *
 * It resumes only where every session was made by a handshake that verified the certificate: a chain that demands a
 * valid certificate at the handshake (reject_connection). Where the handshake also completes without one (the
 * policy enforcements, hosts whose routes trust different CAs), Envoy reports a resumed session's certificate as not
 * validated (envoy#21235): it cannot tell a session of a verified certificate from one of a refused one, so there
 * every connection makes a full handshake.
 *
 * Envoy does not verify a certificate again when a session resumes, so a resumed session could outlive the
 * certificate (or its issuer, or its CRL). Each route Envoy decides itself therefore has a twin for resumed sessions
 * (`needsResumedSessionTwin`, `resumedSessionMatch`): the ext_authz service verifies the certificate again and
 * decides the route's policy (Envoy's SAN principal says no to a certificate it did not verify on the connection),
 * and Envoy's identity cache keeps that allow no longer than the certificate's path is valid. Routes the service
 * decides verify on every miss anyway.
 */
export function resumesSessions(tlsClass: TlsClass): boolean {
  return 'ca' in tlsClass.requirement && !checksClientCertificates(tlsClass);
}

/**
 * How long a TLS 1.2 session may resume: an hour, as long as an idle connection is kept open. (Envoy sets no
 * lifetime for TLS 1.3 tickets: BoringSSL's default, two days, renewed on use up to seven. Nothing rests on it:
 * every resumed session is verified again, and a trust change is a new chain.)
 */
const SESSION_LIFETIME_MS = 3_600_000;

/** The DownstreamTlsContext fields of a chain with a client CA. */
export function sessionResumptionSettings(
  tlsClass: TlsClass,
): Partial<envoy_extensions_transport_sockets_tls_v3.DownstreamTlsContext> {
  if (resumesSessions(tlsClass)) return { session_timeout: duration(SESSION_LIFETIME_MS) };
  return { disable_stateless_session_resumption: true, disable_stateful_session_resumption: true };
}

/** Whether a route on a resuming chain needs a twin that verifies a resumed session's certificate again. */
export function needsResumedSessionTwin(route: EdgeRoute): boolean {
  return route.authorization.kind !== 'ext-authz' && route.trustCheck !== undefined;
}

/**
 * A route's twin for resumed sessions: placed right before it, matched only when the certificate was not verified
 * on this connection. On a chain that demands a valid certificate at the handshake, only a resumed session is that.
 * (Should an Envoy release mark resumed sessions validated without verifying them again, the twins would stop
 * matching: test/e2e/session-resumption.test.ts's expiry test would fail, as it should.)
 */
export function resumedSessionMatch(match: route_v3.RouteMatch): route_v3.RouteMatch {
  return { ...match, tls_context: { validated: { value: false } } };
}
