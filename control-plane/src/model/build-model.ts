import { casWithoutCrl, errorAt, type Config, type ConfigError, type RouteConfig } from '../config/index.js';
import type { Result } from '../config/index.js';
import type { AuthorizationRoute } from './types.js';
import { routeAuthorization, routeName } from './authorization.js';
import { hostPatternCovers } from './hostnames.js';
import { intermediateCrlErrors } from './intermediate-crls.js';
import { certificateCheck, routeClientTrust, routeRequirement, stableRequirementId } from './requirement.js';
import { sharedHostRequirement } from './shared-host.js';
import { requiresValidCertificate, trustCheckRoute } from './trust.js';
import type {
  ProviderEndpoints,
  CertificateCheck,
  ClientCaRequirement,
  EdgeHost,
  EdgeModel,
  EdgeRoute,
  PathRewrite,
  RouteAuthorization,
  TlsClass,
  Upstream,
} from './types.js';
import { upstreamForRoute } from './upstreams.js';
import { signInModel } from './sign-in.js';

export interface ModelOptions {
  /** The JSON Web Key Set of the identity-header signing key, served on every host. */
  jwks?: string;
  /** What the identity provider's discovery document says (absent: it could not be read, or no sign-in). */
  provider?: ProviderEndpoints;
}

/** Config → hosts grouped by TLS requirement. Finds the conflicts the handshake cannot resolve. */
export function buildEdgeModel(config: Config, options: ModelOptions = {}): Result<EdgeModel> {
  const errors: ConfigError[] = [];
  const authorizationRoutes: AuthorizationRoute[] = [];
  const byHost = new Map<string, Array<{ route: RouteConfig; requirement: ClientCaRequirement; upstream: string }>>();
  const upstreams = new Map<string, Upstream>();
  const origins = new Map<string, Set<string>>();
  const trustChecks = new Map<string, AuthorizationRoute>();

  for (const route of config.routes) {
    const requirement = routeRequirement(route, config);
    const upstream = upstreamForRoute(route);
    upstreams.set(upstream.name, upstream);
    const list = byHost.get(route.from.host);
    if (list) list.push({ route, requirement, upstream: upstream.name });
    else byHost.set(route.from.host, [{ route, requirement, upstream: upstream.name }]);
  }

  const hosts: EdgeHost[] = [];
  for (const [name, routes] of byHost) {
    const ids = new Set(routes.map((r) => r.requirement.id));
    let requirement = routes[0]!.requirement;
    const shared = ids.size > 1;
    if (shared) {
      // The handshake sees only the SNI, so it cannot pick between the routes' CAs (DESIGN.md point 5).
      const union = sharedHostRequirement(name, routes, config.clientCertificateRules.crls);
      if ('errors' in union) {
        errors.push(...union.errors);
        continue;
      }
      requirement = union.requirement;
    }
    if ('ca' in requirement) {
      const uncovered = casWithoutCrl(config.clientCertificateRules.crls, requirement.ca);
      if (uncovered.length > 0) {
        const at = routes.find((r) => 'ca' in r.requirement)!.route.at;
        errors.push(
          errorAt(
            at,
            `host ${name}: downstream_mtls.crl has CRLs for some of its client CAs but none for ` +
              `${uncovered.join('; ')}, so Envoy would refuse every certificate those CAs issue directly: ` +
              `add their CRLs (an empty CRL will do)`,
          ),
        );
        continue;
      }
      const seen = origins.get(requirement.id) ?? new Set();
      for (const r of routes) if ('ca' in r.requirement) seen.add(r.requirement.ca.origin);
      origins.set(requirement.id, seen);
    }
    const edgeRoutes = routes.map((r) => {
      const clientTrust = routeClientTrust(r.requirement, shared);
      const { authorization, extAuthz } = routeAuthorization(r.route, config, clientTrust, options.jwks);
      if (extAuthz) authorizationRoutes.push(extAuthz);
      const check = certificateCheck(r.route, r.requirement, shared);
      const edgeRoute = toEdgeRoute(r.route, r.upstream, check, authorization);
      if (clientTrust) {
        const envoyPolicy = authorization.kind === 'envoy' ? authorization.policy : undefined;
        const required = requiresValidCertificate(check, requirement);
        const signIn = r.route.signIn ? config.identityProvider : undefined;
        const session = signIn ? { groupsClaim: signIn.groupsClaim } : undefined;
        const trustCheck = trustCheckRoute(r.route, clientTrust, required, envoyPolicy, session);
        trustChecks.set(trustCheck.name, trustCheck);
        edgeRoute.trustCheck = trustCheck.name;
      }
      return edgeRoute;
    });
    const acceptsUnverified =
      'ca' in requirement && (requirement.validation.enforcement !== 'reject_connection' || shared);
    routes.forEach((r, i) => {
      const usesCertificate = r.route.setRequestHeaders.some(([, parts]) => parts.some((p) => 'clientCert' in p));
      if (acceptsUnverified && edgeRoutes[i]!.certificateCheck.kind === 'none' && usesCertificate) {
        const error = errorAt(
          r.route.at,
          'uses ${pomerium.client_cert_…} on a route that does not require a valid client certificate, ' +
            'so an unverified certificate would be described to the upstream: require one ' +
            '(allow_any_authenticated_user) or drop those headers',
        );
        errors.push({ ...error, key: `${r.route.at.key}.set_request_headers` });
      }
    });
    hosts.push({ name, requirement, routes: edgeRoutes });
  }
  errors.push(...intermediateCrlErrors(config, hosts));
  if (errors.length > 0) return { ok: false, errors };

  const classes = groupIntoClasses(hosts, config, origins);
  return {
    ok: true,
    value: {
      address: config.address,
      upstreamTrustPem: config.upstreamTrustPem,
      forwardClientCert: config.forwardClientCert,
      serverCertificates: config.certificates,
      classes,
      upstreams: [...upstreams.values()].sort((a, b) => a.name.localeCompare(b.name)),
      authorizationRoutes: [...authorizationRoutes, ...trustChecks.values()].sort((a, b) =>
        a.name.localeCompare(b.name),
      ),
      accessLogFields: config.accessLogFields,
      claimHeaders: [...new Set(config.jwtClaimsHeaders.map(([header]) => header.toLowerCase()))].sort(),
      ...(options.jwks !== undefined ? { jwks: options.jwks } : {}),
      ...(config.identityProvider
        ? {
            signIn: signInModel(
              config.identityProvider,
              options.provider,
              config.publicHttpsPort ?? config.address.port,
              classes.flatMap((c) => c.hosts.map((h) => h.name)),
            ),
          }
        : {}),
    },
  };
}

function groupIntoClasses(
  hosts: EdgeHost[],
  config: Config,
  origins: ReadonlyMap<string, ReadonlySet<string>>,
): TlsClass[] {
  const byRequirement = new Map<string, { requirement: ClientCaRequirement; hosts: EdgeHost[] }>();
  // The `none` class always exists: it is the default filter chain, answering unknown or missing SNI.
  byRequirement.set('none', { requirement: { id: 'none' }, hosts: [] });
  const named = new Map<string, string>();
  for (const host of hosts) {
    const r = host.requirement;
    let requirement: ClientCaRequirement = r;
    if ('ca' in r) {
      // Hosts of one requirement share its name: compute it once per requirement, not per host.
      const known = byRequirement.get(r.id);
      if (known) requirement = known.requirement;
      else {
        let id = stableRequirementId(origins.get(r.id) ?? [], r.validation.checkedPerRoute === true);
        // Two requirements must never share a name (one filter chain, route configuration and secret each).
        if (named.has(id) && named.get(id) !== r.id) id = `${id}-${r.id.slice(-6)}`;
        named.set(id, r.id);
        requirement = { ...r, id };
      }
    }
    const group = byRequirement.get(r.id) ?? { requirement, hosts: [] };
    group.hosts.push({ ...host, requirement });
    byRequirement.set(r.id, group);
  }
  const groups = [...byRequirement.values()].sort((a, b) =>
    a.requirement.id === 'none'
      ? -1
      : b.requirement.id === 'none'
        ? 1
        : a.requirement.id.localeCompare(b.requirement.id),
  );
  for (const g of groups) g.hosts.sort((a, b) => a.name.localeCompare(b.name));

  const http1Only = classesSharingACertificate(groups, config);
  return groups.map((g) => {
    const own = new Set(g.hosts.map((h) => h.name));
    const wildcards = g.hosts.filter((h) => h.name.startsWith('*.')).map((h) => h.name);
    const misdirectedHosts = hosts
      .filter((h) => !own.has(h.name) && wildcards.some((w) => hostPatternCovers(w, h.name)))
      .map((h) => h.name)
      .sort();
    return {
      requirement: g.requirement,
      hosts: g.hosts,
      misdirectedHosts,
      alpn: http1Only.has(g.requirement.id) ? ['http/1.1'] : ['h2', 'http/1.1'],
    };
  });
}

/**
 * Browsers reuse an HTTP/2 connection for another host when the server certificate covers both.
 * Where one certificate covers hosts of different classes, those classes offer only HTTP/1.1 (DESIGN.md point 8).
 */
function classesSharingACertificate(
  groups: Array<{ requirement: ClientCaRequirement; hosts: EdgeHost[] }>,
  config: Config,
): Set<string> {
  const out = new Set<string>();
  for (const cert of config.certificates) {
    const covered = groups
      .filter((g) => g.hosts.some((h) => cert.dnsNames.some((san) => san === h.name || hostPatternCovers(san, h.name))))
      .map((g) => g.requirement.id);
    if (covered.length > 1) for (const id of covered) out.add(id);
  }
  return out;
}

function toEdgeRoute(
  route: RouteConfig,
  upstream: string,
  check: CertificateCheck,
  authorization: RouteAuthorization,
): EdgeRoute {
  return {
    name: routeName(route),
    match: route.match,
    rewrite: pathRewrite(route),
    preserveHostHeader: route.preserveHostHeader,
    setRequestHeaders: route.setRequestHeaders,
    removeRequestHeaders: route.removeRequestHeaders,
    timeoutMs: route.timeoutMs,
    upstream,
    access: route.access,
    certificateCheck: check,
    authorization,
    signIn: route.signIn,
  };
}

/** As in Pomerium, a path on `to` replaces the leading "/" of the request path (after prefix_rewrite, if any). */
function pathRewrite(route: RouteConfig): PathRewrite | undefined {
  const base = route.toPathPrefix;
  if (route.prefixRewrite !== undefined) {
    return { kind: 'prefix', value: base ? base + route.prefixRewrite.replace(/^\//, '') : route.prefixRewrite };
  }
  return base ? { kind: 'replace-leading-slash', value: base } : undefined;
}
