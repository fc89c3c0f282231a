import type { EdgeModel, EdgeRoute } from '../model/index.js';
import { checksClientCertificates, type RouteChain } from './http-filters/index.js';
import {
  buildRoute,
  buildRouteConfigurationResource,
  buildVirtualHost,
  edgeRoutes,
  misdirectedRoute,
  misdirectedVirtualHost,
} from './route-configuration.js';
import type { envoy_config_route_v3 as route_v3 } from '../envoy-api/index.js';
import { edgeReasonMetadata } from './access-log.js';
import type { NamedResource } from '../envoy-api/index.js';

/** The template's own name; every copy Envoy gets carries the name it asked for instead. */
const STALE_ROUTE_CONFIGURATION_TEMPLATE = 'routes-stale';

/**
 * What a connection made under an older trust reads: when a chain's trust generation changes, Envoy drains the
 * old chain, but until each of its connections closes, their requests still go through the old chain's
 * connection manager, which reads the old route configuration name. Those requests must meet the CURRENT trust,
 * and Envoy verified their certificate only at the handshake, so every route here first asks the ext_authz
 * service to verify the certificate again against the route's current trust; one that no longer verifies
 * gets 495 (authz/service.ts) and never reaches the upstream, one that does is served (and the drain then closes
 * the connection gracefully). The xDS layer serves this template under any older generation name Envoy asks for
 * (`isGenerationRouteConfigurationName`), so several narrowings in a row and a control-plane restart during a
 * drain need no memory of past generations.
 *
 * One template for every old chain: it holds the hosts of every chain with a client CA, each route checked
 * against its own route's trust. A request for another chain's host is then served only to a certificate that
 * this host's trust accepts, as a new connection would be; hosts without a client CA (or unknown) get 421.
 */
export function buildStaleRouteConfiguration(model: EdgeModel): NamedResource<'routeConfiguration'> {
  const virtualHosts: route_v3.VirtualHost[] = [];
  const misdirected = misdirectedRoute({ checksClientCertificates: true, resumesSessions: false });
  for (const tlsClass of model.classes) {
    if (!('ca' in tlsClass.requirement)) {
      for (const host of tlsClass.hosts) virtualHosts.push(misdirectedVirtualHost(host.name, misdirected));
      continue;
    }
    // No identity cache here (every request asks the service), so the cache's flag for resumed sessions is moot.
    const chain: RouteChain = {
      checksClientCertificates: checksClientCertificates(tlsClass),
      resumesSessions: false,
      ...(model.signIn ? { signIn: model.signIn } : {}),
    };
    // Each route as it is now, with the ext_authz filter enabled to verify the certificate (and decide the
    // policy, if it did): see the peer-chain and ext-authz filters (http-filters/).
    const staleRoute = (r: EdgeRoute): route_v3.Route[] => [buildRoute(r, chain, 'stale-trust')];
    const own = edgeRoutes(chain, model.jwks);
    for (const host of tlsClass.hosts) virtualHosts.push(buildVirtualHost(host, own, staleRoute));
  }
  virtualHosts.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
  virtualHosts.push({ name: 'misdirected', domains: ['*'], routes: [misdirected] });
  const name = STALE_ROUTE_CONFIGURATION_TEMPLATE;
  return { name, resource: buildRouteConfigurationResource(name, virtualHosts, model.signIn !== undefined) };
}

/**
 * What an old generation name serves when the control plane cannot vouch for the stale template: Envoy refused
 * the route configurations of the very edit that changed trust (the template holds the same routes, so Envoy
 * would refuse it too). Every request on such a connection gets 495 and a new handshake checks the certificate
 * against the current trust: it fails closed until the next good edit. Nothing in it comes from the user's config.
 */
export function buildClosedRouteConfiguration(): NamedResource<'routeConfiguration'> {
  const name = CLOSED_ROUTE_CONFIGURATION_TEMPLATE;
  const body =
    'The trust this connection was checked against has changed. ' +
    'Open a new connection (reload the page): it will be checked against the current trust.\n';
  const route: route_v3.Route = {
    name: 'trust-changed',
    match: { prefix: '/' },
    metadata: edgeReasonMetadata('trust_changed'),
    direct_response: { status: 495, body: { inline_string: body } },
  };
  return {
    name,
    resource: buildRouteConfigurationResource(name, [{ name: 'closed', domains: ['*'], routes: [route] }]),
  };
}

const CLOSED_ROUTE_CONFIGURATION_TEMPLATE = 'routes-closed';
