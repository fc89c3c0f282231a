// The OpenID Connect provider's discovery document, read into a typed value. Pure: runtime/oidc-discovery.ts
// fetches it. Envoy's oauth2 filter needs the endpoints, and the control plane needs jwks_uri to fetch the keys
// that Envoy's jwt_authn filter gets inline (config/oidc-jwks.ts reads those).
import { Diagnostics, errorAt, type Location, type Result } from '../source/diagnostics.js';

/** The parts of a discovery document (OpenID Connect Discovery 1.0, §3) that the edge uses. */
export interface ProviderDocument {
  /** Exactly as the document says: ID tokens carry it in `iss`, so Envoy must compare with this text. */
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  endSessionEndpoint?: string;
  jwksUri: string;
}

/**
 * An absolute http or https URL, or undefined. http is taken because test and development providers listen on
 * loopback without TLS; production should use https, since codes, tokens and keys travel over these URLs and a
 * key fetched over plain http can be replaced by anyone on the path.
 */
export function httpUrl(text: unknown): URL | undefined {
  if (typeof text !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' ? url : undefined;
}

/** OpenID Connect Discovery §4.3 lets the issuer and the URL it was found by differ by one trailing '/'. */
function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/**
 * Where the discovery document of `providerUrl` (idp_provider_url, the issuer) is: the issuer with one trailing
 * '/' removed, then `/.well-known/openid-configuration` (Discovery §4.1, which keeps the issuer's path).
 */
export function discoveryDocumentUrl(providerUrl: string, at: Location): Result<string> {
  const url = httpUrl(providerUrl);
  const problem =
    url === undefined
      ? 'expected an absolute http or https URL'
      : /[?#]/.test(providerUrl)
        ? 'an issuer URL has no query or fragment (OpenID Connect Discovery §3)'
        : url.username !== '' || url.password !== ''
          ? 'an issuer URL has no user name or password'
          : undefined;
  if (problem !== undefined) {
    const message =
      `${problem}: the issuer URL of the OpenID Connect provider, as its discovery document names it ` +
      `(e.g. https://idp.example.com/realms/main), got ${JSON.stringify(providerUrl)}`;
    return { ok: false, errors: [errorAt(at, message)] };
  }
  return { ok: true, value: `${withoutTrailingSlash(providerUrl)}/.well-known/openid-configuration` };
}

/** What each endpoint is for, so that a message about a missing one says what would not work. */
const ENDPOINTS = {
  authorization_endpoint: 'to send people to sign in',
  token_endpoint: 'to exchange the sign-in code for tokens',
  jwks_uri: 'to verify ID tokens',
  end_session_endpoint: 'to sign people out',
} as const;

/**
 * The discovery document `text`, served at `documentUrl`, for the provider configured as `providerUrl`. Every
 * problem is reported at once, each naming the document, so that one fix of the provider's setup fixes them all.
 */
export function parseProviderDocument(
  text: string,
  providerUrl: string,
  documentUrl: string,
  at: Location,
): Result<ProviderDocument> {
  const diag = new Diagnostics();
  const data = parseJsonObject(text, `the discovery document ${documentUrl}`, at, diag);
  if (data === undefined) return { ok: false, errors: diag.errors };
  const issuer = data['issuer'];
  if (typeof issuer !== 'string' || issuer === '') {
    diag.error(at, `the discovery document ${documentUrl} names no issuer (is it an OpenID Connect provider's?)`);
  } else if (withoutTrailingSlash(issuer) !== withoutTrailingSlash(providerUrl)) {
    diag.error(
      at,
      `issuer ${JSON.stringify(issuer)} in the discovery document ${documentUrl} is not idp_provider_url ` +
        `${JSON.stringify(providerUrl)}: set idp_provider_url to the issuer exactly as the provider names it ` +
        `(ID tokens carry it, and Envoy compares them with it)`,
    );
  }
  const endpoint = (name: keyof typeof ENDPOINTS, required: boolean): string | undefined => {
    const value = data[name];
    if (value === undefined || value === null) {
      if (required) diag.error(at, `the discovery document ${documentUrl} has no ${name}, needed ${ENDPOINTS[name]}`);
      return undefined;
    }
    if (httpUrl(value) === undefined) {
      diag.error(
        at,
        `${name} ${JSON.stringify(value)} in the discovery document ${documentUrl} is not an absolute http or ` +
          `https URL (it is needed ${ENDPOINTS[name]})`,
      );
      return undefined;
    }
    return value as string;
  };
  const authorizationEndpoint = endpoint('authorization_endpoint', true);
  const tokenEndpoint = endpoint('token_endpoint', true);
  const jwksUri = endpoint('jwks_uri', true);
  const endSessionEndpoint = endpoint('end_session_endpoint', false);
  if (!diag.ok || authorizationEndpoint === undefined || tokenEndpoint === undefined || jwksUri === undefined) {
    return { ok: false, errors: diag.errors };
  }
  const value: ProviderDocument = { issuer: issuer as string, authorizationEndpoint, tokenEndpoint, jwksUri };
  // Absent rather than undefined, so that two documents without it compare and serialize alike.
  if (endSessionEndpoint !== undefined) value.endSessionEndpoint = endSessionEndpoint;
  return { ok: true, value };
}

/** `text` as a JSON object, or an error naming `what` (a document and where it came from). */
export function parseJsonObject(
  text: string,
  what: string,
  at: Location,
  diag: Diagnostics,
): Record<string, unknown> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    diag.error(at, `${what} is not JSON (${reason}); ${startOf(text)}`);
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    diag.error(at, `${what} is not a JSON object; ${startOf(text)}`);
    return undefined;
  }
  return data as Record<string, unknown>;
}

/** The first characters of an answer, which usually tell an HTML login or error page from JSON. */
function startOf(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (trimmed === '') return 'the answer is empty';
  return `it begins ${JSON.stringify(trimmed.length > 60 ? `${trimmed.slice(0, 60)}...` : trimmed)}`;
}
