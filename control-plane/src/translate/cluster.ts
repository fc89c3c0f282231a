import type { Upstream } from '../model/index.js';
import { isIpAddress } from '../model/hostnames.js';
import {
  typed,
  type envoy_config_cluster_v3,
  type envoy_extensions_transport_sockets_tls_v3 as tls_v3,
} from '../envoy-api/index.js';
import { duration, sdsSecretConfig } from './common.js';
import { UPSTREAM_TRUST_SECRET, upstreamClientCertificateSecretName } from './names.js';
import type { NamedResource } from '../envoy-api/index.js';

export function buildCluster(upstream: Upstream): NamedResource<'cluster'> {
  const allIps = upstream.endpoints.every((e) => isIpAddress(e.host));
  const resource: envoy_config_cluster_v3.Cluster = {
    name: upstream.name,
    // Envoy's stat names are dot-separated, and its tag extraction (the cluster's name as a Prometheus label) cuts
    // at the first dot: "cluster.http-127.0.0.1-8080.upstream_rq" would name a cluster "http-127". No dots here.
    alt_stat_name: statName(upstream.name),
    type: allIps ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: duration(10_000),
    lb_policy: 'ROUND_ROBIN',
    per_connection_buffer_limit_bytes: { value: 32768 },
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
  if (upstream.tls)
    resource.transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: buildUpstreamTlsContext(upstream),
    };
  return { name: upstream.name, resource };
}

/** A cluster name as a stat name: the dots and colons of an address become underscores. */
function statName(clusterName: string): string {
  return clusterName.replace(/[.:]/g, '_');
}

function buildUpstreamTlsContext(upstream: Upstream) {
  const tls = upstream.tls!;
  const common: tls_v3.CommonTlsContext = {};
  if (!tls.skipVerify) {
    // Envoy checks the name only when told to; without these matchers any trusted certificate would do.
    const names: tls_v3.CertificateValidationContext = {
      match_typed_subject_alt_names: tls.expectedSans.map((san) => ({
        san_type: san.type,
        matcher: { exact: san.value },
      })),
    };
    if (tls.customCa) {
      common.validation_context = { trusted_ca: { inline_string: tls.customCa.pem }, ...names };
    } else {
      // The system roots travel once, as an SDS secret, instead of inline in every cluster.
      common.combined_validation_context = {
        default_validation_context: names,
        validation_context_sds_secret_config: sdsSecretConfig(UPSTREAM_TRUST_SECRET),
      };
    }
  }
  // By reference only: the key travels in the secret, which Envoy redacts from its config dump.
  if (tls.clientCertificate)
    common.tls_certificate_sds_secret_configs = [
      sdsSecretConfig(upstreamClientCertificateSecretName(tls.clientCertificate)),
    ];
  return typed('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
    common_tls_context: common,
    ...(tls.sni ? { sni: tls.sni } : {}),
    ...(tls.allowRenegotiation ? { allow_renegotiation: true } : {}),
  });
}

/** True when the upstream is verified against the shared system trust, which then must be sent as a secret. */
export function usesUpstreamTrust(upstream: Upstream): boolean {
  return upstream.tls !== undefined && !upstream.tls.skipVerify && !upstream.tls.customCa;
}

function isDefaultPort(scheme: 'http' | 'https', port: number): boolean {
  return (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
}
