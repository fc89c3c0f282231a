import type { ForwardedCertField } from '../config/index.js';
import type { EdgeModel, TlsClass } from '../model/index.js';
import {
  typed,
  type envoy_config_accesslog_v3,
  type envoy_config_listener_v3,
  type envoy_extensions_filters_network_http_connection_manager_v3 as hcm_v3,
  type envoy_extensions_transport_sockets_tls_v3,
  type xds_type_matcher_v3,
} from '../envoy-api/index.js';
import { ADS_CONFIG_SOURCE, duration, sdsSecretConfig } from './common.js';
import { buildAccessLog } from './access-log.js';
import {
  buildLocalReplyConfig,
  checksClientCertificates,
  httpFilters,
  type ChainContext,
} from './http-filters/index.js';
import { clientCaSecretName, LISTENER_NAME, routeConfigurationName, serverCertificateSecretName } from './names.js';
import type { NamedResource } from '../envoy-api/index.js';
import { resumesSessions, sessionResumptionSettings } from './session-resumption.js';

/**
 * One HTTPS listener; one filter chain per TLS class, the class without a client CA as the default chain.
 * A matcher on the SNI picks the chain (rather than each chain's own `server_names`), so that adding or
 * removing a host changes only the matcher: Envoy then drains no connection of an unchanged chain.
 */
export function buildListener(model: EdgeModel): NamedResource<'listener'> {
  const serverSecrets = model.serverCertificates.map((_, i) => serverCertificateSecretName(i));
  // Hosts without a CA are matched by name too: a CA-protected `*.example.com` must not take `public.example.com`.
  const withSni = model.classes.filter((c) => c.hosts.length > 0);
  const fallback = model.classes.find((c) => c.requirement.id === 'none');
  const accessLog = buildAccessLog(model.accessLogFields);
  const resource: envoy_config_listener_v3.Listener = {
    name: LISTENER_NAME,
    address: { socket_address: { address: model.address.host, port_value: model.address.port } },
    listener_filters: [
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: typed('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', {}),
      },
    ],
    // Bounds what one slow or hostile client can make Envoy buffer (Envoy's edge-proxy guidance).
    per_connection_buffer_limit_bytes: { value: 32768 },
    filter_chains: withSni.map((c) => buildFilterChain(chainContext(c, model), serverSecrets, accessLog)),
    ...(withSni.length > 0 ? { filter_chain_matcher: buildServerNameMatcher(withSni) } : {}),
    ...(fallback
      ? {
          default_filter_chain: {
            ...buildFilterChain(chainContext(fallback, model), serverSecrets, accessLog),
            name: 'default',
          },
        }
      : {}),
  };
  return { name: LISTENER_NAME, resource };
}

/** SNI → filter chain name; exact names first, then the longest wildcard suffix; no match → the default chain. */
function buildServerNameMatcher(classes: TlsClass[]): xds_type_matcher_v3.Matcher {
  return {
    matcher_tree: {
      input: {
        name: 'sni',
        typed_config: typed('envoy.extensions.matching.common_inputs.network.v3.ServerNameInput', {}),
      },
      custom_match: {
        name: 'server-names',
        typed_config: typed('xds.type.matcher.v3.ServerNameMatcher', {
          domain_matchers: classes.map((c) => ({
            domains: c.hosts.map((h) => h.name),
            on_match: {
              action: {
                name: c.requirement.id,
                typed_config: typed('google.protobuf.StringValue', { value: c.requirement.id }),
              },
            },
          })),
        }),
      },
    },
  };
}

/** What the HTTP filters of one chain read: its TLS class and the model-wide settings. */
function chainContext(
  tlsClass: TlsClass,
  model: Pick<EdgeModel, 'claimHeaders' | 'forwardClientCert' | 'accessLogFields' | 'signIn'>,
): ChainContext {
  return {
    tlsClass,
    checksClientCertificates: checksClientCertificates(tlsClass),
    resumesSessions: resumesSessions(tlsClass),
    claimHeaders: model.claimHeaders,
    forwardClientCert: model.forwardClientCert,
    logsAuthority: model.accessLogFields.includes('authority'),
    ...(model.signIn ? { signIn: model.signIn } : {}),
  };
}

function buildFilterChain(
  chain: ChainContext,
  serverSecrets: string[],
  accessLog: envoy_config_accesslog_v3.AccessLog[],
): envoy_config_listener_v3.FilterChain {
  const { tlsClass } = chain;
  return {
    name: tlsClass.requirement.id,
    filters: [buildHttpConnectionManager(chain, accessLog)],
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: buildDownstreamTlsContext(tlsClass, serverSecrets),
    },
  };
}

function buildDownstreamTlsContext(tlsClass: TlsClass, serverSecrets: string[]) {
  const r = tlsClass.requirement;
  const common: envoy_extensions_transport_sockets_tls_v3.CommonTlsContext = {
    tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
    tls_certificate_sds_secret_configs: serverSecrets.map(sdsSecretConfig),
    alpn_protocols: tlsClass.alpn,
  };
  if (!('ca' in r))
    return typed('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', { common_tls_context: common });
  return typed('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
    common_tls_context: { ...common, validation_context_sds_secret_config: sdsSecretConfig(clientCaSecretName(r)) },
    // Under reject_connection the handshake fails without a valid certificate; under the policy
    // enforcements it asks for one and the request is answered (495) when it is missing or invalid.
    require_client_certificate: {
      value: r.validation.enforcement === 'reject_connection' && !r.validation.checkedPerRoute,
    },
    // Sessions resume only on the chain that made them, and only where the handshake verified every one of them.
    ...sessionResumptionSettings(tlsClass),
  });
}

function forwardClientCertDetails(fields: ForwardedCertField[]): hcm_v3.HttpConnectionManager {
  if (fields.length === 0) return { forward_client_cert_details: 'SANITIZE' };
  const set: hcm_v3.HttpConnectionManager_SetCurrentClientCertDetails = {};
  for (const f of fields) {
    if (f === 'subject') set.subject = { value: true };
    else set[f] = true;
  }
  return { forward_client_cert_details: 'SANITIZE_SET', set_current_client_cert_details: set };
}

function buildHttpConnectionManager(
  chain: ChainContext,
  accessLog: envoy_config_accesslog_v3.AccessLog[],
): envoy_config_listener_v3.Filter {
  const { tlsClass } = chain;
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: typed('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
      stat_prefix: `https_${tlsClass.requirement.id.replace(/-/g, '_')}`,
      codec_type: 'AUTO',
      rds: { route_config_name: routeConfigurationName(tlsClass.requirement), config_source: ADS_CONFIG_SOURCE },
      // In the order the registry declares (http-filters/registry.ts).
      http_filters: httpFilters(chain),
      local_reply_config: buildLocalReplyConfig('ca' in chain.tlsClass.requirement, chain.signIn !== undefined),
      ...(accessLog.length > 0 ? { access_log: accessLog } : {}),
      // Virtual hosts list bare names; a Host with a port must find them too.
      strip_any_host_port: true,
      use_remote_address: { value: true },
      // Only Envoy's verified client certificate may speak for the client: a client's own header is dropped.
      ...forwardClientCertDetails(chain.forwardClientCert),
      normalize_path: { value: true },
      merge_slashes: true,
      path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
      common_http_protocol_options: {
        headers_with_underscores_action: 'REJECT_REQUEST',
        idle_timeout: duration(3_600_000),
      },
      // Envoy's edge-proxy guidance: few streams per connection, small windows, so one client cannot hog memory.
      http2_protocol_options: {
        max_concurrent_streams: { value: 100 },
        initial_stream_window_size: { value: 65536 },
        initial_connection_window_size: { value: 1048576 },
      },
      request_headers_timeout: duration(10_000),
      stream_idle_timeout: duration(300_000),
    }),
  };
}
