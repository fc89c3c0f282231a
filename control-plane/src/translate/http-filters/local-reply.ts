import {
  typed,
  type envoy_config_accesslog_v3,
  type google_protobuf,
  type envoy_extensions_filters_network_http_connection_manager_v3 as hcm_v3,
} from '../../envoy-api/index.js';
import { EDGE_METADATA_NAMESPACE } from '../../config/access-log-fields.js';
import { escapeHtml } from '../../html/page.js';
import { CLIENT_CERTIFICATE_STATE_HEADER } from '../../policy/index.js';
import { ASK_ADMINISTRATOR, errorPageHtml, INSTALL_CERTIFICATE, type ErrorPage } from '../pages.js';

type Filter = envoy_config_accesslog_v3.AccessLogFilter;

/**
 * The answers Envoy gives itself (only local replies pass through here: an upstream's own 403 or 404 is left
 * alone), as a page in words, or JSON for clients that ask for it. First match wins. The ext_authz service's
 * reason is already words (authz/service.ts, sanitised in authz/check-wire.ts); Envoy's RBAC says only which
 * rule decided (`rbac_access_denied_matched_policy[deny-rule-1]`), which a CEL filter reads here. These filters
 * run on local replies only, never on a request that is served.
 */
interface LocalReply {
  page: ErrorPage;
  /** `error` in the JSON form. */
  error: string;
  /** The reason in the JSON form: plain text. */
  message: string;
  when: Filter[];
  /** The status to answer with instead of the filter's own. */
  statusCode?: number;
}

const status = (code: number): Filter => ({
  status_code_filter: {
    comparison: { op: 'EQ', value: { default_value: code, runtime_key: `mtls_edge.local_reply_${code}` } },
  },
});

const cel = (expression: string): Filter => ({
  extension_filter: {
    name: 'envoy.access_loggers.extension_filters.cel',
    typed_config: typed('envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter', { expression }),
  },
});

const RBAC_DENIED = "response.code_details.startsWith('rbac_access_denied_matched_policy[')";
const NO_ALLOW_RULE = "response.code_details == 'rbac_access_denied_matched_policy[none]'";
/** A route's own direct_response (421, the closed route's 495), not a filter's answer. */
const DIRECT_RESPONSE = "response.code_details == 'direct_response'";
const CERTIFICATE_NOT_VALID: Filter = {
  header_filter: { header: { name: CLIENT_CERTIFICATE_STATE_HEADER, string_match: { exact: 'invalid' } } },
};
/** The client presented no certificate on this connection. */
const NO_CERTIFICATE = '!connection.mtls';

/**
 * The route's words for the RBAC reply it gave (translate/rbac.ts rbacDenialWords), kept in its metadata by the
 * reply's details, as HTML and as text, each with its leading space (Envoy's CEL does not join strings); nothing
 * when the route has none. Metadata is read only when the page is written: a request that is served pays nothing.
 */
const ROUTE_WORDS = (form: 'html' | 'text'): string => {
  const all = 'xds.route_metadata.filter_metadata';
  const ns = `${all}['${EDGE_METADATA_NAMESPACE}']`;
  const has =
    `'${EDGE_METADATA_NAMESPACE}' in ${all} && '${form}' in ${ns} && ` + `response.code_details in ${ns}['${form}']`;
  return `%CEL((${has}) ? ${ns}['${form}'][response.code_details] : '')%`;
};

/** Route metadata with a page's words for each RBAC reply the route can give. */
export function denialWordsMetadata(words: ReadonlyArray<[details: string, text: string]>): google_protobuf.Struct {
  const form = (write: (text: string) => string): google_protobuf.Value => ({
    struct_value: {
      fields: Object.fromEntries(words.map(([details, text]) => [details, { string_value: write(text) }])),
    },
  });
  return { fields: { html: form((text): string => ` ${escapeHtml(text)}`), text: form((text) => ` ${text}`) } };
}

const FORBIDDEN = 'Access denied';
const NO_RULE_TEXT = 'None of the rules that let people into this page matched your request';
const DENY_RULE_TEXT = 'A rule that keeps people out of this page matched your request.';
// Said only as a fact beside the rule: Envoy cannot tell here whether the route's rules read the certificate.
const SENT_NONE_TEXT = `${NO_RULE_TEXT}, and your browser sent no client certificate.`;
const NOT_VALID_TEXT =
  `${NO_RULE_TEXT}, and the client certificate your browser sent is not valid for this page: it is expired, ` +
  'revoked, or not issued by an authority this page trusts.';
const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);
const IF_IT_NEEDS_ONE = `If this page needs a client certificate: ${lowerFirst(INSTALL_CERTIFICATE)}`;

const forbidden = (reason: string, next: string, when: Filter[], message = reason): LocalReply => ({
  page: { status: 403, title: FORBIDDEN, reason, next },
  error: 'forbidden',
  message,
  when: [status(403), ...when],
});

/** A 403 of Envoy's RBAC: the reason, then the route's words for the rule. */
const rbacForbidden = (reason: string, next: string, when: Filter[]): LocalReply =>
  forbidden(`${reason}${ROUTE_WORDS('html')}`, next, when, `${reason}${ROUTE_WORDS('text')}`);

/** Only on a chain that asks for a certificate: elsewhere no certificate is ever expected. */
const CERTIFICATE_REPLIES: LocalReply[] = [
  rbacForbidden(SENT_NONE_TEXT, IF_IT_NEEDS_ONE, [cel(`${NO_ALLOW_RULE} && ${NO_CERTIFICATE}`)]),
  // The certificate check marks a request whose certificate is not valid for its route (policy enforcements).
  rbacForbidden(NOT_VALID_TEXT, IF_IT_NEEDS_ONE, [cel(NO_ALLOW_RULE), CERTIFICATE_NOT_VALID]),
];

const LOCAL_REPLIES: LocalReply[] = [
  rbacForbidden(`${NO_RULE_TEXT}.`, ASK_ADMINISTRATOR, [cel(NO_ALLOW_RULE)]),
  rbacForbidden(DENY_RULE_TEXT, ASK_ADMINISTRATOR, [cel(RBAC_DENIED)]),
  // The ext_authz service's words.
  forbidden('%LOCAL_REPLY_BODY%', ASK_ADMINISTRATOR, [], '%LOCAL_REPLY_BODY%'),
  {
    page: {
      status: 421,
      title: 'Misdirected request',
      reason: '%LOCAL_REPLY_BODY%',
      next:
        'Check the address. If it is right, open it again in a new tab or window: your browser then makes a new ' +
        'connection for it.',
    },
    error: 'misdirected_request',
    message: '%LOCAL_REPLY_BODY%',
    when: [status(421), cel(DIRECT_RESPONSE)],
  },
  {
    page: {
      status: 495,
      title: 'A valid client certificate is required',
      reason: '%LOCAL_REPLY_BODY%',
      next: `Reload the page. If this page comes back: ${lowerFirst(INSTALL_CERTIFICATE)}`,
    },
    error: 'client_certificate_not_valid',
    message: '%LOCAL_REPLY_BODY%',
    // The closed route's answer (translate/stale-route-configuration.ts) and the ext_authz service's, for a
    // certificate that fails the current trust on an older connection; the certificate check's 495 is a page of
    // its own (client-certificate-check.ts).
    when: [status(495), cel(`${DIRECT_RESPONSE} || response.code_details == 'ext_authz_denied'`)],
  },
  {
    page: {
      status: 404,
      title: 'Not found',
      reason: 'This site has no page at this address.',
      next: "Check the address, or start again from the site's home page.",
    },
    error: 'not_found',
    message: 'This site has no page at this address.',
    // Envoy's own 404: no route matched (response flag NR).
    when: [status(404), { response_flag_filter: { flags: ['NR'] } }],
  },
];

/**
 * Envoy's jwt_authn refused the session's ID token (expired, another audience, a key the edge does not know): 401
 * whatever its own status (403 for an audience), with a page that says to sign in again.
 */
const SIGN_IN_AGAIN: LocalReply = {
  page: {
    status: 401,
    title: 'Sign in again',
    reason: 'Your sign-in is no longer valid for this site (%LOCAL_REPLY_BODY%).',
    next: 'Open /.pomerium/sign_out to sign out, then open this page again to sign in.',
  },
  error: 'sign_in_not_valid',
  message: '%LOCAL_REPLY_BODY%',
  when: [cel("response.code_details.startsWith('jwt_authn_access_denied')")],
  statusCode: 401,
};

function mapperFor(reply: LocalReply, json: boolean): hcm_v3.ResponseMapper {
  const filters: Filter[] = json
    ? [...reply.when, { header_filter: { header: { name: 'accept', string_match: { contains: 'application/json' } } } }]
    : reply.when;
  const filter: Filter = filters.length === 1 ? filters[0]! : { and_filter: { filters } };
  return {
    filter,
    ...(reply.statusCode !== undefined ? { status_code: { value: reply.statusCode } } : {}),
    body_format_override: json
      ? {
          json_format: {
            fields: {
              status: { number_value: reply.page.status },
              error: { string_value: reply.error },
              message: { string_value: reply.message },
              reason: { string_value: '%RESPONSE_CODE_DETAILS%' },
            },
          },
          content_type: 'application/json',
        }
      : { text_format_source: { inline_string: errorPageHtml(reply.page) }, content_type: 'text/html; charset=utf-8' },
  };
}

/**
 * `asksForCertificate`: the chain has a client CA (the certificate replies come first there); `signIn`: an identity
 * provider is configured (its reply comes before the generic 403, which would take an audience refusal).
 */
export function buildLocalReplyConfig(asksForCertificate: boolean, signIn = false): hcm_v3.LocalReplyConfig {
  const replies = [
    ...(asksForCertificate ? CERTIFICATE_REPLIES : []),
    ...(signIn ? [SIGN_IN_AGAIN] : []),
    ...LOCAL_REPLIES,
  ];
  return { mappers: replies.flatMap((reply) => [mapperFor(reply, true), mapperFor(reply, false)]) };
}
