import type { ClientCaRequirement } from '../model/index.js';

export const LISTENER_NAME = 'https';

export function routeConfigurationName(requirement: ClientCaRequirement): string {
  return `routes-${requirement.id}`;
}

export function serverCertificateSecretName(index: number): string {
  return `server-cert-${index}`;
}

/** The validation-context secret is named after its requirement, which is named after the CA's content. */
export function clientCaSecretName(requirement: ClientCaRequirement): string {
  return requirement.id;
}

/** System roots (+ certificate_authority) for verifying https upstreams. */
export const UPSTREAM_TRUST_SECRET = 'upstream-trust';
