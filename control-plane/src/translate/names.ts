import { createHash } from 'node:crypto';
import { trustGeneration, type ClientCaRequirement } from '../model/index.js';
import type { UpstreamClientCertificate } from '../config/index.js';

export const LISTENER_NAME = 'https';

/**
 * A chain with a client CA reads the route configuration of its trust generation (model/trust.ts): a trust
 * change then renames it, which changes that chain alone, so Envoy drains exactly the connections made
 * under the old trust; the old name keeps answering them, with a per-request check (stale-route-configuration.ts).
 */
export function routeConfigurationName(requirement: ClientCaRequirement): string {
  return 'ca' in requirement ? `routes-${requirement.id}@${trustGeneration(requirement)}` : `routes-${requirement.id}`;
}

/** A name of the form above that the current config does not serve: a chain made under an older trust reads it. */
export { isGenerationRouteConfigurationName } from '../envoy-api/index.js';

export function serverCertificateSecretName(index: number): string {
  return `server-cert-${index}`;
}

/** The validation-context secret is named after its requirement, which is named after the CA's content. */
export function clientCaSecretName(requirement: ClientCaRequirement): string {
  return requirement.id;
}

/** System roots (+ certificate_authority) for verifying https upstreams. */
export const UPSTREAM_TRUST_SECRET = 'upstream-trust';

/**
 * The secret of a client certificate the edge presents to upstreams, named after where it comes from (its files),
 * never its content: a rotation then changes the secret alone, and Envoy's clusters keep their connections.
 */
export function upstreamClientCertificateSecretName(cert: UpstreamClientCertificate): string {
  return `upstream-client-cert-${createHash('sha256').update(cert.source).digest('hex').slice(0, 16)}`;
}
