import type { Diagnostics, Location } from '../source/diagnostics.js';
import { MAX_DURATION_MS, parseGoDuration } from './duration.js';
import {
  asMap,
  checkKeys,
  readBool,
  readString,
  readStringMap,
  readStringOrList,
  type MapValue,
  type Read,
} from '../source/fields.js';
import { readInlineOrFile, toCertificateBundle, type FileAccess } from './inputs.js';
import type { SourceValue } from '../source/source.js';
import { ownCopy } from '../source/own-copy.js';
import { parseHeaderTemplate } from './header-template.js';
import { readUpstreamTls } from './upstream-tls.js';
import { readAccess } from './route-access.js';
import type { PolicyContext } from '../policy/index.js';
import type { CertificateBundle, HeaderValuePart, RouteConfig, RouteMatch, UpstreamUrl } from './types.js';

export const ROUTE_KEYS = [
  'from',
  'to',
  'prefix',
  'path',
  'regex',
  'prefix_rewrite',
  'preserve_host_header',
  'set_request_headers',
  'remove_request_headers',
  'timeout',
  'tls_skip_verify',
  'tls_upstream_server_name',
  'tls_server_name',
  'tls_custom_ca',
  'tls_custom_ca_file',
  'tls_client_cert',
  'tls_client_key',
  'tls_client_cert_file',
  'tls_client_key_file',
  'tls_upstream_allow_renegotiation',
  'tls_downstream_client_ca',
  'tls_downstream_client_ca_file',
  'allow_public_unauthenticated_access',
  'allow_any_authenticated_user',
  'policy',
  'pass_identity_headers',
] as const;

/** Pomerium's default upstream timeout. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** `globalCaSet`: client_ca[_file] is present, even if it failed to load (that failure is reported on its own). */
export function readRoute(
  item: SourceValue,
  index: number,
  globalCa: CertificateBundle | undefined,
  globalCaSet: boolean,
  files: FileAccess,
  diag: Diagnostics,
  policyContext: PolicyContext = {},
): RouteConfig | undefined {
  const map = asMap(item, diag);
  if (!map) return undefined;
  const before = diag.errors.length;
  checkKeys(map, ROUTE_KEYS, diag);

  const from = readFrom(map, diag);
  const to = readTo(map, diag);
  const match = readMatch(map, diag);
  const prefixRewrite = readString(map, 'prefix_rewrite', diag);
  if (prefixRewrite && match?.kind === 'regex')
    diag.error(prefixRewrite.at, 'prefix_rewrite cannot be used with regex; use prefix or path');
  const timeout = readString(map, 'timeout', diag);
  const timeoutMs = timeout ? parseGoDuration(timeout.value) : DEFAULT_TIMEOUT_MS;
  if (timeout && timeoutMs === undefined)
    diag.error(timeout.at, `expected a duration such as "30s" or "1m30s", got ${JSON.stringify(timeout.value)}`);
  else if (timeout && timeoutMs !== undefined && timeoutMs > MAX_DURATION_MS)
    diag.error(timeout.at, `${timeout.value} is longer than Envoy accepts (at most 87660000h); use 0 for no timeout`);

  const upstreamTls = readUpstreamTls(map, to?.urls, files, diag);

  const clientCaInput = readInlineOrFile(map, 'tls_downstream_client_ca', 'tls_downstream_client_ca_file', files, diag);
  const clientCa = clientCaInput && toCertificateBundle(clientCaInput, diag);
  const caSet =
    globalCaSet || map.entries.has('tls_downstream_client_ca') || map.entries.has('tls_downstream_client_ca_file');
  const access = readAccess(map, clientCa ?? globalCa, caSet, diag, policyContext);
  // Read before the check below so that their errors are reported along with the others.
  const preserveHostHeader = readBool(map, 'preserve_host_header', diag);
  const setRequestHeaders = readStringMap(map, 'set_request_headers', diag);
  const removeRequestHeaders = readStringOrList(map, 'remove_request_headers', diag);
  for (const [name] of setRequestHeaders ?? []) checkHeaderName(name, map.entries.get('set_request_headers')!.at, diag);
  for (const r of removeRequestHeaders ?? []) checkHeaderName(r.value, r.at, diag);
  const headerTemplates = (setRequestHeaders ?? []).map(([name, value]): [string, HeaderValuePart[]] => [
    name,
    parseHeaderTemplate(value, map.entries.get('set_request_headers')!.at, diag),
  ]);

  if (diag.errors.length > before || !from || !to || !match || !access || timeoutMs === undefined) return undefined;
  return {
    index,
    at: map.at,
    from,
    to: to.urls,
    toPathPrefix: to.pathPrefix,
    match,
    prefixRewrite: prefixRewrite?.value,
    preserveHostHeader: preserveHostHeader?.value ?? false,
    setRequestHeaders: headerTemplates,
    removeRequestHeaders: removeRequestHeaders?.map((r) => r.value.toLowerCase()) ?? [],
    timeoutMs,
    upstreamTls,
    clientCa,
    access: access.access,
    policy: access.policy,
    passIdentityHeaders: access.passIdentityHeaders,
    signIn: access.signIn,
  };
}

function readFrom(map: MapValue, diag: Diagnostics): RouteConfig['from'] | undefined {
  const from = readString(map, 'from', diag);
  if (!from) {
    if (!map.entries.has('from')) diag.error(map.at, 'a route needs "from" (e.g. from: https://app.example.com)');
    return undefined;
  }
  const url = parseUrl(from, diag);
  if (!url) return undefined;
  if (url.protocol !== 'https:') {
    diag.error(from.at, `must be an https URL (client certificates need TLS), got ${JSON.stringify(from.value)}`);
    return undefined;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    diag.error(
      from.at,
      `must be only scheme and host; match paths with prefix, path or regex (got ${JSON.stringify(from.value)})`,
    );
    return undefined;
  }
  const host = url.hostname.toLowerCase();
  if (host.includes('*') && !/^\*\.[^*]+$/.test(host)) {
    diag.error(
      from.at,
      `a wildcard may only be the whole first label, as in https://*.example.com (got ${JSON.stringify(from.value)})`,
    );
    return undefined;
  }
  return { host };
}

function readTo(map: MapValue, diag: Diagnostics): { urls: UpstreamUrl[]; pathPrefix?: string } | undefined {
  const entries = readStringOrList(map, 'to', diag);
  if (!entries) {
    if (!map.entries.has('to')) diag.error(map.at, 'a route needs "to" (e.g. to: http://127.0.0.1:8080)');
    return undefined;
  }
  const urls: UpstreamUrl[] = [];
  const paths = new Set<string>();
  for (const entry of entries) {
    const upstream = upstreamUrl(entry, diag);
    if (!upstream) continue;
    urls.push(upstream.url);
    paths.add(upstream.path);
  }
  if (urls.length !== entries.length || urls.length === 0) return undefined;
  const at = entries[0]!.at;
  if (new Set(urls.map((u) => u.scheme)).size > 1) diag.error(at, 'all "to" URLs of a route must use the same scheme');
  if (paths.size > 1) diag.error(at, 'all "to" URLs of a route must have the same path');
  const pathPrefix = [...paths][0];
  return { urls, pathPrefix: pathPrefix ? pathPrefix : undefined };
}

const MATCH_KINDS = ['prefix', 'path', 'regex'] as const;

/**
 * A `to` URL as scheme, host, port and path. Thousands of routes often name a few upstreams, so each text's
 * reading is kept (a URL object is large, and parsing one costs a microsecond); errors are never kept.
 */
function upstreamUrl(entry: Read<string>, diag: Diagnostics): { url: UpstreamUrl; path: string } | undefined {
  const known = upstreamUrls.get(entry.value);
  if (known) return known;
  const url = parseUrl(entry, diag);
  if (!url) return undefined;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    diag.error(entry.at, `must be an http or https URL, got ${JSON.stringify(entry.value)}`);
    return undefined;
  }
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const read = Object.freeze({
    url: Object.freeze({ scheme, host, port }),
    path: url.pathname === '/' ? '' : url.pathname,
  });
  if (upstreamUrls.size >= MAX_KEPT_UPSTREAM_URLS) upstreamUrls.delete(upstreamUrls.keys().next().value!); // the oldest
  upstreamUrls.set(ownCopy(entry.value), read); // kept past this reload: not a slice of the file
  return read;
}

const upstreamUrls = new Map<string, { url: UpstreamUrl; path: string }>();
const MAX_KEPT_UPSTREAM_URLS = 4096;

function readMatch(map: MapValue, diag: Diagnostics): RouteMatch | undefined {
  // Most routes set one of the three or none: no list is built for them (this runs once per route).
  const given: Array<{ kind: RouteMatch['kind']; read: Read<string> }> = [];
  for (const kind of MATCH_KINDS) {
    if (!map.entries.has(kind)) continue;
    const read = readString(map, kind, diag);
    if (read) given.push({ kind, read });
  }
  if (given.length > 1) {
    diag.error(given[1]!.read.at, `set only one of prefix, path and regex (also set: ${given[0]!.kind})`);
    return undefined;
  }
  const g = given[0];
  if (!g) return { kind: 'prefix', value: '/' };
  if (g.kind !== 'regex' && !g.read.value.startsWith('/')) {
    diag.error(g.read.at, `must start with "/", got ${JSON.stringify(g.read.value)}`);
    return undefined;
  }
  if (g.kind === 'regex') {
    try {
      new RegExp(g.read.value);
    } catch (e) {
      diag.error(g.read.at, `not a valid regular expression: ${(e as Error).message}`);
      return undefined;
    }
    // Envoy (and Pomerium) use RE2, which has no lookaround and no backreferences.
    if (/\(\?<?[=!]|\\[1-9]|\\k</.test(g.read.value)) {
      diag.error(
        g.read.at,
        'lookaround ((?=, (?!, (?<=, (?<!) and backreferences (\\1, \\k<name>) are not supported: Envoy ' +
          'matches with RE2',
      );
      return undefined;
    }
  }
  return { kind: g.kind, value: g.read.value };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An HTTP field name (RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** Envoy refuses (NACKs) a route that sets or removes Host or a pseudo-header, or names an invalid header. */
function checkHeaderName(name: string, at: Location, diag: Diagnostics): void {
  const lower = name.toLowerCase();
  if (lower === 'host' || lower.startsWith(':'))
    diag.error(at, `cannot set or remove ${name}: use preserve_host_header to send the client's Host`);
  else if (!HEADER_NAME.test(name)) diag.error(at, `${JSON.stringify(name)} is not a valid HTTP header name`);
}

function parseUrl(v: Read<string>, diag: Diagnostics): URL | undefined {
  try {
    return new URL(v.value);
  } catch {
    diag.error(v.at, `not a URL: ${JSON.stringify(v.value)}`);
    return undefined;
  }
}
