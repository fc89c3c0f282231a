import { createHash } from 'node:crypto';
import {
  acceptsIntermediates,
  configuredClientCas,
  crlsForBundle,
  type CertificateBundle,
  type Config,
  type ConfiguredClientCas,
  type RouteConfig,
} from '../config/index.js';
import type { ClientTrust } from '../identity/verify-certificate.js';
import { issuerNames } from './shared-host.js';
import type { CertificateCheck, ClientCaRequirement } from './types.js';

/** A route's own CA replaces the global one (DESIGN.md point 9); with neither, no client certificate is asked for. */
export function routeRequirement(route: RouteConfig, config: Config): ClientCaRequirement {
  const ca = route.clientCa ?? config.clientCa;
  if (!ca) return NO_REQUIREMENT;
  // Routes of one CA share one requirement object, so that what is derived from it is derived once (below).
  let byCa = requirementsByConfig.get(config);
  if (!byCa) requirementsByConfig.set(config, (byCa = new WeakMap()));
  let requirement = byCa.get(ca);
  if (!requirement) byCa.set(ca, (requirement = caRequirement(ca, config)));
  return requirement;
}

const NO_REQUIREMENT: ClientCaRequirement = Object.freeze({ id: 'none' });
const requirementsByConfig = new WeakMap<Config, WeakMap<CertificateBundle, ClientCaRequirement>>();

function caRequirement(ca: CertificateBundle, config: Config): ClientCaRequirement {
  const rules = config.clientCertificateRules;
  return {
    id: requirementId(ca),
    ca,
    validation: {
      enforcement: rules.enforcement,
      crlPem: routeCrls(config, ca),
      directIssuerCrlPem: crlsForBundle(rules.crls, ca),
      maxVerifyDepth: rules.maxVerifyDepth,
      matchSubjectAltNames: rules.matchSubjectAltNames,
    },
  };
}

/**
 * The CRLs of the route's CA and, when its depth lets intermediates issue, those of intermediates
 * (config/downstream-mtls.ts).
 */
function routeCrls(config: Config, ca: CertificateBundle): string {
  const rules = config.clientCertificateRules;
  if (rules.crls.length === 0) return '';
  if (!acceptsIntermediates(rules.maxVerifyDepth)) return crlsForBundle(rules.crls, ca);
  let configured = configuredCasByConfig.get(config);
  if (!configured) {
    configured = configuredClientCas([config.clientCa, ...config.routes.map((r) => r.clientCa)]);
    configuredCasByConfig.set(config, configured);
  }
  return crlsForBundle(rules.crls, ca, configured);
}

const configuredCasByConfig = new WeakMap<Config, ConfiguredClientCas>();

/**
 * What a route checks itself; under reject_connection the handshake already refused clients without a valid
 * certificate.
 */
export function certificateCheck(
  route: RouteConfig,
  requirement: ClientCaRequirement,
  sharedHost: boolean,
): CertificateCheck {
  if (!('ca' in requirement)) return { kind: 'none' };
  const mode = requirement.validation.enforcement;
  // With a policy, allow_any_authenticated_user is one allow clause of it: the policy decides, not a 495.
  const needed =
    mode === 'policy_with_default_deny' ||
    mode === 'reject_connection' ||
    (route.access === 'any_authenticated_user' && !route.policy);
  if (sharedHost)
    return needed
      ? { kind: 'issued-by', issuers: issuerNames(requirement.ca) }
      : { kind: 'none', issuers: issuerNames(requirement.ca) };
  return mode !== 'reject_connection' && needed ? { kind: 'valid' } : { kind: 'none' };
}

/**
 * The trust a route's certificates must pass, for the ext_authz service to verify them again: the route's
 * own requirement (its CA, that CA's CRLs, depth, SAN matchers). On a host whose routes trust different CAs
 * the handshake verified against their union at depth 1 and the route checks the issuer's name, so the
 * route accepts only certificates issued directly by a CA of its own file. A route without a CA has none
 * (the config refuses identity headers and certificate criteria there): a certificate proves nothing to it.
 */
export function routeClientTrust(requirement: ClientCaRequirement, sharedHost: boolean): ClientTrust | undefined {
  if (!('ca' in requirement)) return undefined;
  let trusts = trustsByRequirement.get(requirement);
  if (!trusts) trustsByRequirement.set(requirement, (trusts = {}));
  const kind = sharedHost ? 'shared' : 'plain';
  return (trusts[kind] ??= sharedClientTrust(requirement, sharedHost));
}

const trustsByRequirement = new WeakMap<ClientCaRequirement, { shared?: ClientTrust; plain?: ClientTrust }>();

function sharedClientTrust(
  requirement: Extract<ClientCaRequirement, { ca: unknown }>,
  sharedHost: boolean,
): ClientTrust {
  const v = requirement.validation;
  // Thousands of routes share a few trusts, and the verifier parses each ClientTrust object once: share the objects.
  // A shared host's route accepts direct issuers only: an intermediate's CRL would make it demand a CRL of its CA.
  const crlPem = sharedHost ? v.directIssuerCrlPem : v.crlPem;
  const key = [
    requirement.ca.fingerprints.join(','),
    v.maxVerifyDepth,
    sharedHost,
    JSON.stringify(v.matchSubjectAltNames),
    crlPem,
  ].join('\n');
  let trust = trustByContent.get(key);
  if (!trust) {
    trust = {
      caPem: requirement.ca.pem,
      crlPem,
      maxVerifyDepth: sharedHost ? 1 : v.maxVerifyDepth,
      matchSubjectAltNames: v.matchSubjectAltNames,
    };
    if (sharedHost) trust.directIssuerOnly = true;
    if (trustByContent.size >= MAX_SHARED_TRUSTS) trustByContent.clear(); // reloads bring new contents
    trustByContent.set(key, trust);
  }
  return trust;
}

const trustByContent = new Map<string, ClientTrust>();
const MAX_SHARED_TRUSTS = 1024;

const idByBundle = new WeakMap<CertificateBundle, string>();

/** Keyed by the set of CA certificates, so that the same CA given twice (file and base64) is one requirement. */
function requirementId(ca: CertificateBundle): string {
  let id = idByBundle.get(ca);
  if (!id) {
    id = 'ca-content-' + createHash('sha256').update(ca.fingerprints.join(',')).digest('hex').slice(0, 12);
    idByBundle.set(ca, id);
  }
  return id;
}

/**
 * The name Envoy sees (filter chain, route configuration, SDS secret) comes from where the CA is
 * configured, not from its content: rotating the certificates in a CA file then changes only the
 * secret, and Envoy swaps the TLS context without draining the listener.
 */
export function stableRequirementId(origins: Iterable<string>, checkedPerRoute: boolean): string {
  // A shared host's union and a plain class can name the same CA files: the kind keeps their names apart.
  const kind = checkedPerRoute ? 'union' : 'plain';
  return (
    'client-ca-' +
    createHash('sha256')
      .update([kind, ...[...new Set(origins)].sort()].join('\n'))
      .digest('hex')
      .slice(0, 12)
  );
}
