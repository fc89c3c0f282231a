import { createHash } from 'node:crypto';
import { crlsForBundle, type CertificateBundle, type Config, type RouteConfig } from '../config/index.js';
import type { ClientCaRequirement } from './types.js';

/** A route's own CA replaces the global one (DESIGN.md point 9); with neither, no client certificate is asked for. */
export function routeRequirement(route: RouteConfig, config: Config): ClientCaRequirement {
  const ca = route.clientCa ?? config.clientCa;
  if (!ca) return { id: 'none' };
  const rules = config.clientCertificateRules;
  return {
    id: requirementId(ca),
    ca,
    validation: { enforcement: rules.enforcement, crlPem: crlsForBundle(rules.crls, ca), maxVerifyDepth: rules.maxVerifyDepth, matchSubjectAltNames: rules.matchSubjectAltNames },
  };
}

/** Whether a route answers 495 itself; under reject_connection the handshake already refused such clients. */
export function requiresClientCertificate(route: RouteConfig, requirement: ClientCaRequirement): boolean {
  if (!('ca' in requirement)) return false;
  const mode = requirement.validation.enforcement;
  return mode === 'policy_with_default_deny' || (mode === 'policy' && route.access === 'any_authenticated_user');
}

/** Keyed by the set of CA certificates, so that the same CA given twice (file and base64) is one requirement. */
function requirementId(ca: CertificateBundle): string {
  return 'ca-content-' + createHash('sha256').update(ca.fingerprints.join(',')).digest('hex').slice(0, 12);
}

/**
 * The name Envoy sees (filter chain, route configuration, SDS secret) comes from where the CA is
 * configured, not from its content: rotating the certificates in a CA file then changes only the
 * secret, and Envoy swaps the TLS context without draining the listener.
 */
export function stableRequirementId(origins: Iterable<string>): string {
  return 'client-ca-' + createHash('sha256').update([...new Set(origins)].sort().join('\n')).digest('hex').slice(0, 12);
}

export function describeRequirement(r: ClientCaRequirement): string {
  return 'ca' in r ? `client CA from ${r.ca.origin}` : 'no client certificate';
}
