import type { Upstream } from '../model/index.js';
import { isIpAddress } from '../model/hostnames.js';
import { duration, typed } from './common.js';
import type { EnvoyJson, NamedResource } from './types.js';

export function buildCluster(upstream: Upstream): NamedResource {
  const allIps = upstream.endpoints.every((e) => isIpAddress(e.host));
  const resource: EnvoyJson = {
    name: upstream.name,
    type: allIps ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: duration(10_000),
    lb_policy: 'ROUND_ROBIN',
    ...(allIps ? {} : { dns_lookup_family: 'V4_PREFERRED' }),
    load_assignment: {
      cluster_name: upstream.name,
      endpoints: [
        {
          lb_endpoints: upstream.endpoints.map((e) => ({
            endpoint: {
              address: { socket_address: { address: e.host, port_value: e.port } },
              // auto_host_rewrite sends this as Host: the `to` URL's host, with its port when not the default.
              hostname: isDefaultPort(e.scheme, e.port) ? e.host : `${e.host}:${e.port}`,
            },
          })),
        },
      ],
    },
  };
  if (upstream.tls) resource['transport_socket'] = { name: 'envoy.transport_sockets.tls', typed_config: buildUpstreamTlsContext(upstream) };
  return { name: upstream.name, resource };
}

function buildUpstreamTlsContext(upstream: Upstream): EnvoyJson {
  const tls = upstream.tls!;
  const common: EnvoyJson = {};
  if (!tls.skipVerify) {
    // Without a validation context Envoy would accept any upstream certificate; check the chain and the name.
    const validation: EnvoyJson = tls.customCa ? { trusted_ca: { inline_string: tls.customCa.pem } } : { system_root_certs: {} };
    if (tls.sni) validation['match_typed_subject_alt_names'] = [{ san_type: 'DNS', matcher: { exact: tls.sni } }];
    common['validation_context'] = validation;
  }
  return typed('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
    common_tls_context: common,
    ...(tls.sni ? { sni: tls.sni } : {}),
  });
}

function isDefaultPort(scheme: 'http' | 'https', port: number): boolean {
  return (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
}
