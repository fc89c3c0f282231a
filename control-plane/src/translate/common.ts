import type { EnvoyJson } from './types.js';

/** Resources travel over the same ADS stream that delivered the listener. */
export const ADS_CONFIG_SOURCE: EnvoyJson = { ads: {}, resource_api_version: 'V3' };

export function duration(ms: number): EnvoyJson {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  return nanos ? { seconds, nanos } : { seconds };
}

export function typed(typeName: string, body: EnvoyJson = {}): EnvoyJson {
  return { '@type': `type.googleapis.com/${typeName}`, ...body };
}

export function sdsSecretConfig(name: string): EnvoyJson {
  return { name, sds_config: ADS_CONFIG_SOURCE };
}
