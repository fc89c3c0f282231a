import {
  accessLogOperator,
  EDGE_METADATA_NAMESPACE,
  ERROR_ONLY_FIELDS,
  ACCESS_LOG_MESSAGE,
  INFO_LEVEL,
  LOG_SERVICE,
} from '../config/index.js';
import {
  typed,
  type envoy_config_accesslog_v3,
  type envoy_config_core_v3,
  type google_protobuf,
} from '../envoy-api/index.js';

/**
 * One JSON object per request on Envoy's stdout (its own logs go to stderr), already in the edge's log line
 * (level, time, service, src, msg `http-request`, and the fields under `access`): `run` passes those lines on
 * unparsed, and an Envoy deployed on its own writes them where container log shippers read. Envoy's JSON formatter
 * escapes every value, so nothing a client sends (a path, a header) can break a line or forge another entry.
 * Absent when `access_log_fields` is off.
 */
export function buildAccessLog(fields: readonly string[]): envoy_config_accesslog_v3.AccessLog[] {
  if (fields.length === 0) return [];
  const entry = (errors: boolean): google_protobuf.Struct => ({
    fields: {
      level: { number_value: INFO_LEVEL },
      time: { string_value: '%START_TIME%' },
      service: { string_value: LOG_SERVICE },
      src: { string_value: 'envoy' },
      // The same for every entry: a summary (method, host, path, status) would cost Envoy ~2 µs a request to format.
      msg: { string_value: ACCESS_LOG_MESSAGE },
      access: {
        struct_value: {
          fields: Object.fromEntries(
            fields.map((f): [string, google_protobuf.Value] => [
              f,
              !errors && ERROR_ONLY_FIELDS.has(f)
                ? { null_value: 'NULL_VALUE' }
                : { string_value: accessLogOperator(f) },
            ]),
          ),
        },
      },
    },
  });
  if (!fields.some((f) => ERROR_ONLY_FIELDS.has(f))) return [stdoutLog(entry(true))];
  // Two loggers, exactly one of which writes each entry: below 400 without the fields only errors fill.
  return [stdoutLog(entry(false), { op: 'LE', status: 399 }), stdoutLog(entry(true), { op: 'GE', status: 400 })];
}

function stdoutLog(
  json: google_protobuf.Struct,
  status?: { op: 'LE' | 'GE'; status: number },
): envoy_config_accesslog_v3.AccessLog {
  return {
    name: 'envoy.access_loggers.stdout',
    ...(status && {
      filter: {
        status_code_filter: {
          comparison: {
            op: status.op,
            // A runtime key is required; none is ever set, so the default holds.
            value: { default_value: status.status, runtime_key: `mtls_edge.access_log_${status.op.toLowerCase()}` },
          },
        },
      },
    }),
    typed_config: typed('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', {
      log_format: { json_format: json },
    }),
  };
}

/** Route metadata that names why the edge answers a route itself (the `reason` access log field reads it). */
export function edgeReasonMetadata(reason: string): envoy_config_core_v3.Metadata {
  return { filter_metadata: { [EDGE_METADATA_NAMESPACE]: { fields: { reason: { string_value: reason } } } } };
}
