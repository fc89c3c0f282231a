import type {
  envoy_config_accesslog_v3,
  envoy_extensions_filters_network_http_connection_manager_v3 as hcm_v3,
} from '../../envoy-api/index.js';

const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}' +
  'h1{font-size:1.4rem}code{word-break:break-all}';
const RULE_NAMES_NOTE =
  "(<code>deny-rule-N</code>: the route's Nth deny rule matched; <code>[none]</code>: none of its allow rules did.)";

const FORBIDDEN_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>403 Access denied</title>
<style>${PAGE_STYLE}</style>
</head><body><h1>Access denied</h1><p>This page's policy does not let this request in.</p>
<p>%LOCAL_REPLY_BODY%</p><p>Reason: <code>%RESPONSE_CODE_DETAILS%</code></p>
<p><small>${RULE_NAMES_NOTE}</small></p>
<p>If you think you should have access, send this page to the site's administrator.</p></body></html>
`;

const FORBIDDEN_JSON =
  '{"status":403,"error":"forbidden","message":"%LOCAL_REPLY_BODY%","reason":"%RESPONSE_CODE_DETAILS%"}\n';

function status403(): envoy_config_accesslog_v3.AccessLogFilter {
  return {
    status_code_filter: {
      comparison: { op: 'EQ', value: { default_value: 403, runtime_key: 'mtls_edge.forbidden_status' } },
    },
  };
}

/**
 * Envoy's own 403s (RBAC, ext_authz) as a page naming the reason, or JSON for clients that ask for it.
 * Only local replies pass through here: an upstream's own 403 is left alone. The texts that fill the
 * page are Envoy's details (rule names this project chooses) and the ext_authz service's reason, which
 * holds no markup or quotes (authz/service.ts).
 */
export function buildLocalReplyConfig(): hcm_v3.LocalReplyConfig {
  return {
    mappers: [
      {
        filter: {
          and_filter: {
            filters: [
              status403(),
              { header_filter: { header: { name: 'accept', string_match: { contains: 'application/json' } } } },
            ],
          },
        },
        body_format_override: {
          text_format_source: { inline_string: FORBIDDEN_JSON },
          content_type: 'application/json',
        },
      },
      {
        filter: status403(),
        body_format_override: {
          text_format_source: { inline_string: FORBIDDEN_HTML },
          content_type: 'text/html; charset=utf-8',
        },
      },
    ],
  };
}
