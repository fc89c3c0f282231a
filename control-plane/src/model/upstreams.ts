import { createHash } from 'node:crypto';
import type { RouteConfig, UpstreamUrl } from '../config/index.js';
import { isIpAddress } from './hostnames.js';
import type { Upstream } from './types.js';

/** One cluster per distinct set of endpoints and TLS settings, so routes that share an upstream share a cluster. */
export function upstreamForRoute(route: RouteConfig): Upstream {
  // Routes to one plain http upstream share its URL object (config/route.ts keeps each `to` text's reading).
  const only = route.to.length === 1 ? route.to[0]! : undefined;
  if (only?.scheme === 'http') {
    let upstream = plainUpstreams.get(only);
    if (!upstream) plainUpstreams.set(only, (upstream = buildUpstream(route)));
    return upstream;
  }
  return buildUpstream(route);
}

const plainUpstreams = new WeakMap<UpstreamUrl, Upstream>();

function buildUpstream(route: RouteConfig): Upstream {
  const endpoints = [...route.to].sort((a, b) => `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`));
  const first = endpoints[0]!;
  const scheme = first.scheme;
  const base = `${scheme}-${endpoints.map((e) => `${e.host}-${e.port}`).join('-')}`.replace(/[^a-zA-Z0-9.-]/g, '_');
  if (scheme === 'http') return { name: base, endpoints };
  const t = route.upstreamTls;
  // Pomerium sends the upstream's own host name as SNI unless tls_upstream_server_name says otherwise.
  const sni = t.serverName ?? (isIpAddress(first.host) ? undefined : first.host);
  const expectedSans = t.serverName
    ? [{ type: 'DNS' as const, value: t.serverName }]
    : [...new Set(endpoints.map((e) => e.host))].map((host) => ({
        type: isIpAddress(host) ? ('IP_ADDRESS' as const) : ('DNS' as const),
        value: host,
      }));
  const tls = { ...t, sni, expectedSans };
  const isDefault = !t.skipVerify && !t.serverName && !t.customCa && !t.clientCertificate && !t.allowRenegotiation;
  // The client certificate by its source, not its content: replacing its files then keeps the cluster (and its
  // open connections) and changes only the secret. Routes to one upstream with different certificates stay apart.
  // (Appended only when set, so that the names of clusters without them stay what earlier releases served.)
  const settings = JSON.stringify([
    t.skipVerify,
    t.serverName ?? null,
    t.customCa?.fingerprints ?? null,
    ...(t.clientCertificate || t.allowRenegotiation ? [t.clientCertificate?.source ?? null, t.allowRenegotiation] : []),
  ]);
  const name = isDefault ? base : `${base}-${createHash('sha256').update(settings).digest('hex').slice(0, 8)}`;
  return { name, endpoints, tls };
}
