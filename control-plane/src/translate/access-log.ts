import { accessLogOperator, EDGE_METADATA_NAMESPACE } from '../config/index.js';
import {
  typed,
  type envoy_config_accesslog_v3,
  type envoy_config_core_v3,
  type google_protobuf,
} from '../envoy-api/index.js';

/**
 * One JSON object per request on Envoy's stdout (its own logs go to stderr): `run` tells the two apart by stream,
 * and an Envoy deployed on its own writes them where container log shippers read. Envoy's JSON formatter escapes
 * every value, so nothing a client sends (a path, a header) can break a line or forge another entry.
 * Absent when `access_log_fields` is off.
 */
export function buildAccessLog(fields: readonly string[]): envoy_config_accesslog_v3.AccessLog[] {
  if (fields.length === 0) return [];
  const json: google_protobuf.Struct = { fields: {} };
  for (const field of fields) json.fields![field] = { string_value: accessLogOperator(field) };
  return [
    {
      name: 'envoy.access_loggers.stdout',
      typed_config: typed('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', {
        log_format: { json_format: json },
      }),
    },
  ];
}

/** Route metadata that names why the edge answers a route itself (the `reason` access log field reads it). */
export function edgeReasonMetadata(reason: string): envoy_config_core_v3.Metadata {
  return { filter_metadata: { [EDGE_METADATA_NAMESPACE]: { fields: { reason: { string_value: reason } } } } };
}
