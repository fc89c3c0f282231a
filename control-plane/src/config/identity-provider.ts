// Sign-in with an OpenID Connect provider, spelled as Pomerium spells it (idp_*, cookie_*,
// authenticate_service_url). Envoy runs the code flow (oauth2 filter) and validates the ID token (jwt_authn):
// what can be checked here without the network is checked here; the provider's discovery document is read at
// run time (runtime/oidc-discovery.ts).
import type { Diagnostics } from '../source/diagnostics.js';
import { readBool, readString, readStringOrList, type MapValue, type Read } from '../source/fields.js';
import { parseGoDuration } from './duration.js';
import { readReferencedFile, type FileAccess } from './inputs.js';
import type { IdentityProviderConfig, RouteConfig } from './types.js';

export const IDENTITY_PROVIDER_KEYS = [
  'authenticate_service_url',
  'idp_provider',
  'idp_provider_url',
  'idp_client_id',
  'idp_client_secret',
  'idp_client_secret_file',
  'idp_groups_claim',
  'idp_refresh_interval',
  'cookie_secret',
  'cookie_secret_file',
  'cookie_name',
  'cookie_expire',
  'cookie_domain',
  'cookie_secure',
  'cookie_http_only',
  'cookie_same_site',
] as const;
/** A list, or (as IDP_SCOPES in Pomerium) words separated by commas. */
export const IDENTITY_PROVIDER_LIST_KEYS = ['idp_scopes'] as const;

export const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
const DEFAULT_REFRESH_MS = 5 * 60_000;
const SAME_SITE = ['lax', 'none'] as const;
const COOKIE_SECRET_HINT = 'make one with: head -c32 /dev/urandom | base64';
/** RFC 6265 cookie-name characters (a token): no separators, spaces or controls. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;
const DOMAIN = /^\.?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The identity provider, or undefined when none is configured (no idp_* key at all). An idp_* key without the
 * rest is an error naming what is missing: half a sign-in config would silently let no one in.
 */
export function readIdentityProvider(
  root: MapValue,
  files: FileAccess,
  diag: Diagnostics,
): IdentityProviderConfig | undefined {
  const present = [...IDENTITY_PROVIDER_KEYS, ...IDENTITY_PROVIDER_LIST_KEYS].filter((k) => root.entries.has(k));
  if (present.length === 0) return undefined;
  const providerUrl = readString(root, 'idp_provider_url', diag);
  const at = providerUrl?.at ?? root.entries.get(present[0]!)!.at;
  const before = diag.errors.length;
  const provider = readString(root, 'idp_provider', diag);
  if (provider && provider.value !== 'oidc') {
    diag.error(
      provider.at,
      `idp_provider "${provider.value}" is not supported: use oidc (any OpenID Connect provider)`,
    );
  }
  const issuer = providerUrl && readHttpUrl(providerUrl, diag);
  const clientId = readString(root, 'idp_client_id', diag);
  const clientSecret = readSecret(root, 'idp_client_secret', files, diag);
  const cookieSecret = readCookieSecret(root, files, diag);
  // Half a sign-in config would let nobody in: one error lists every key still missing.
  const missing = [
    ...(root.entries.has('idp_provider_url') ? [] : ['idp_provider_url (the OpenID Connect issuer URL)']),
    ...(root.entries.has('idp_client_id') ? [] : ['idp_client_id (the client id registered at the provider)']),
    ...(['idp_client_secret', 'idp_client_secret_file'].some((k) => root.entries.has(k))
      ? []
      : ['idp_client_secret or idp_client_secret_file']),
    ...(['cookie_secret', 'cookie_secret_file'].some((k) => root.entries.has(k))
      ? []
      : [`cookie_secret or cookie_secret_file, the same on every replica (${COOKIE_SECRET_HINT})`]),
  ];
  if (missing.length > 0) diag.error(at, `sign-in (${present.join(', ')}) also needs ${missing.join('; ')}`);
  const scopes = readScopes(root, diag);
  const cookieName = readString(root, 'cookie_name', diag);
  if (cookieName && !COOKIE_NAME.test(cookieName.value))
    diag.error(cookieName.at, "a cookie name is letters, digits and !#$%&'*+-.^_`|~ (up to 64), e.g. _pomerium");
  const expire = readString(root, 'cookie_expire', diag);
  const expireMs = expire && parseGoDuration(expire.value);
  if (expire && (expireMs === undefined || expireMs < 1000))
    diag.error(expire.at, `expected a duration of a second or more, such as 14h or 30m, got "${expire.value}"`);
  const domain = readString(root, 'cookie_domain', diag);
  if (domain && !DOMAIN.test(domain.value.toLowerCase()))
    diag.error(domain.at, `"${domain.value}" is not a domain name (e.g. example.com)`);
  for (const key of ['cookie_secure', 'cookie_http_only'] as const) {
    const flag = readBool(root, key, diag);
    // Envoy's oauth2 filter always marks its cookies Secure and HttpOnly: a session never travels in clear text
    // nor reaches page scripts. Saying otherwise would be a setting Envoy ignores.
    if (flag && !flag.value)
      diag.error(flag.at, `${key}: false is not supported: the session cookies are always Secure and HttpOnly`);
  }
  const sameSite = readString(root, 'cookie_same_site', diag);
  const sameSiteValue = sameSite?.value.toLowerCase();
  if (sameSite && sameSiteValue === 'strict')
    diag.error(
      sameSite.at,
      'cookie_same_site: strict would make every sign-in loop: a browser sends no Strict cookie on the redirect ' +
        "back from the provider's site, so the page would ask for sign-in again; use lax (the default) or none",
    );
  else if (sameSite && !(SAME_SITE as readonly string[]).includes(sameSiteValue!))
    diag.error(sameSite.at, `expected one of ${SAME_SITE.join(', ')}, got "${sameSite.value}"`);
  const authenticate = readString(root, 'authenticate_service_url', diag);
  const authenticateUrl = authenticate && readHttpUrl(authenticate, diag, 'https');
  if (authenticateUrl && !domain)
    diag.error(
      authenticate.at,
      'authenticate_service_url needs cookie_domain, a domain covering it and every signed-in route: the ' +
        'session cookie set at the callback must reach the routes (or leave authenticate_service_url out: each ' +
        'route host then takes its own callback)',
    );
  else if (authenticateUrl && domain && !withinDomain(authenticateUrl.hostname, domain.value))
    diag.error(authenticate.at, `the host ${authenticateUrl.hostname} is not within cookie_domain ${domain.value}`);
  const groupsClaim = readString(root, 'idp_groups_claim', diag);
  const refresh = readString(root, 'idp_refresh_interval', diag);
  const refreshMs = refresh ? parseGoDuration(refresh.value) : DEFAULT_REFRESH_MS;
  if (refresh && (refreshMs === undefined || refreshMs < 1000))
    diag.error(refresh.at, `expected a duration of a second or more, such as 5m, got "${refresh.value}"`);
  if (diag.errors.length > before || !issuer || !clientId || !clientSecret || !cookieSecret) return undefined;
  return {
    provider: 'oidc',
    issuer: providerUrl.value.trim(),
    clientId: clientId.value,
    clientSecret,
    scopes,
    cookieSecret,
    cookieName: cookieName?.value ?? '_pomerium',
    cookieExpireSeconds: expireMs === undefined ? 14 * 3600 : Math.round(expireMs / 1000),
    cookieDomain: domain?.value.toLowerCase().replace(/^\./, ''),
    cookieSameSite: (sameSiteValue as IdentityProviderConfig['cookieSameSite'] | undefined) ?? 'lax',
    authenticateServiceUrl: authenticateUrl?.origin,
    groupsClaim: groupsClaim?.value ?? 'groups',
    refreshMs: refreshMs ?? DEFAULT_REFRESH_MS,
    at,
  };
}

/**
 * The callback of authenticate_service_url is answered by this edge: its host must be one the edge serves (a route's
 * `from`), whose certificate and TLS requirement then apply to it as to the route.
 */
export function checkAuthenticateHost(
  root: MapValue,
  idp: IdentityProviderConfig | undefined,
  routes: Array<RouteConfig | undefined>,
  diag: Diagnostics,
): void {
  if (idp?.authenticateServiceUrl === undefined) return;
  const host = new URL(idp.authenticateServiceUrl).hostname;
  if (routes.some((r) => r?.from.host === host)) return;
  diag.error(
    root.entries.get('authenticate_service_url')!.at,
    `${host} is not the host of any route: this edge answers the sign-in callback there, so add a route from ` +
      `https://${host} (any route: the callback path is the edge's own)`,
  );
}

/** A host is within a cookie domain when it is the domain or a subdomain of it. */
function withinDomain(host: string, domain: string): boolean {
  const d = domain.toLowerCase().replace(/^\./, '');
  const h = host.toLowerCase();
  return h === d || h.endsWith(`.${d}`);
}

function readHttpUrl(read: Read<string>, diag: Diagnostics, only?: 'https'): URL | undefined {
  let url: URL;
  try {
    url = new URL(read.value);
  } catch {
    diag.error(read.at, `"${read.value}" is not a URL (e.g. https://idp.example.com)`);
    return undefined;
  }
  const schemes = only ? [only] : ['https', 'http'];
  if (!schemes.includes(url.protocol.slice(0, -1)) || url.username !== '' || url.password !== '') {
    diag.error(read.at, `expected an ${schemes.join(' or ')} URL without user or password, got "${read.value}"`);
    return undefined;
  }
  if (url.search !== '' || url.hash !== '') {
    diag.error(read.at, `expected a URL without ?query or #fragment, got "${read.value}"`);
    return undefined;
  }
  return url;
}

/** A secret given inline or as a file (whose text is trimmed: an editor's final newline is not part of it). */
function readSecret(root: MapValue, key: string, files: FileAccess, diag: Diagnostics): string | undefined {
  const inline = readString(root, key, diag);
  const file = readString(root, `${key}_file`, diag);
  if (inline && file) {
    diag.error(file.at, `set either ${key} or ${key}_file, not both`);
    return undefined;
  }
  if (inline) return inline.value;
  if (!file) return undefined;
  const text = readReferencedFile(file.value, file.at, files, diag)?.trim();
  if (text === '') diag.error(file.at, `${key}_file (${file.value}) is empty`);
  return text === '' ? undefined : text;
}

/** Pomerium's cookie_secret: base64 of 32 random bytes. It signs and encrypts the session cookies (HMAC, AES). */
function readCookieSecret(root: MapValue, files: FileAccess, diag: Diagnostics): Buffer | undefined {
  const text = readSecret(root, 'cookie_secret', files, diag);
  if (text === undefined) return undefined;
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (bytes === undefined || bytes.length !== 32) {
    const where = root.entries.get('cookie_secret')?.at ?? root.entries.get('cookie_secret_file')!.at;
    diag.error(where, `cookie_secret must be base64 of exactly 32 random bytes: ${COOKIE_SECRET_HINT}`);
    return undefined;
  }
  return bytes;
}

function readScopes(root: MapValue, diag: Diagnostics): string[] {
  const given = readStringOrList(root, 'idp_scopes', diag);
  if (given === undefined) return DEFAULT_SCOPES;
  const words = given.flatMap((r) => r.value.split(/[\s,]+/).filter((w) => w !== ''));
  for (const r of given)
    if (/[^\x21-\x7e\s,]|["\\]/.test(r.value)) diag.error(r.at, `"${r.value}" is not an OAuth scope (RFC 6749 3.3)`);
  // The ID token this edge validates exists only with the openid scope.
  return words.includes('openid') ? [...new Set(words)] : ['openid', ...new Set(words)];
}
