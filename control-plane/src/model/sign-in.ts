import type { IdentityProviderConfig } from '../config/index.js';
import { isIpAddress } from './hostnames.js';
import type { ProviderEndpoints, SignInModel, Upstream } from './types.js';

/** The cluster Envoy's oauth2 filter exchanges codes through: the token endpoint's host, verified like upstreams. */
const TOKEN_ENDPOINT_CLUSTER = 'idp-token-endpoint';

/**
 * Sign-in as the translator needs it: the config, what discovery read (absent while it could not), and the
 * cluster to the token endpoint. An https token endpoint is verified against the system roots (plus
 * certificate_authority), with its host name as SNI and as the name its certificate must carry.
 */
export function signInModel(
  config: IdentityProviderConfig,
  provider: ProviderEndpoints | undefined,
  publicPort: number,
  hosts: readonly string[],
): SignInModel {
  // Envoy drops the port from :authority before its filters run (the virtual hosts are matched without it), so a
  // URL back to this edge names the port browsers reach it on (public_https_port, else the one it listens on),
  // unless that is HTTPS's own.
  const origin = `https://%REQ(:authority)%${publicPort === 443 ? '' : `:${publicPort}`}`;
  // Envoy compares host names without an IPv6 literal's brackets.
  const redirectHosts = [...new Set(hosts.map((h) => h.replace(/^\[(.*)\]$/, '$1')))].sort();
  if (provider === undefined) return { config, origin, redirectHosts };
  return { config, origin, redirectHosts, provider, tokenEndpoint: tokenEndpointUpstream(provider.tokenEndpoint) };
}

function tokenEndpointUpstream(endpoint: string): Upstream {
  const url = new URL(endpoint);
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
  const endpoints = [{ scheme: https ? ('https' as const) : ('http' as const), host, port }];
  if (!https) return { name: TOKEN_ENDPOINT_CLUSTER, endpoints };
  const ip = isIpAddress(host);
  return {
    name: TOKEN_ENDPOINT_CLUSTER,
    endpoints,
    tls: {
      skipVerify: false,
      allowRenegotiation: false,
      ...(ip ? {} : { sni: host }),
      expectedSans: [{ type: ip ? 'IP_ADDRESS' : 'DNS', value: host }],
    },
  };
}
