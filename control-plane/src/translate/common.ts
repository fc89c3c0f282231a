import type {
  envoy_config_core_v3,
  envoy_extensions_transport_sockets_tls_v3,
  google_protobuf,
} from '../envoy-api/index.js';

/** Resources travel over the same ADS stream that delivered the listener. */
export const ADS_CONFIG_SOURCE: envoy_config_core_v3.ConfigSource = { ads: {}, resource_api_version: 'V3' };

export function duration(ms: number): google_protobuf.Duration {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  return nanos ? { seconds, nanos } : { seconds };
}

export function sdsSecretConfig(name: string): envoy_extensions_transport_sockets_tls_v3.SdsSecretConfig {
  return { name, sds_config: ADS_CONFIG_SOURCE };
}
