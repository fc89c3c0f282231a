import { WRITTEN_CRITERION_NAMES, writtenName } from './criteria.js';

/** Why a Pomerium criterion mtls-edge does not support is refused, and what to write instead. */

const WITH_IN = (criterion: string) =>
  `use "${criterion}" (with "in" for several values), which mtls-edge reads from the client certificate`;

/**
 * Pomerium criteria that rest on an identity provider's directory or devices, which mtls-edge does not read even
 * with sign-in; and those that need sign-in (idp_provider_url) when none is configured.
 */
const NEEDS_IDENTITY_PROVIDER: Readonly<Record<string, string>> = {
  groups: 'with sign-in configured, groups: {has: GROUP} reads the groups claim of the ID token',
  claim: 'with sign-in configured, claim/NAME: value reads a claim of the ID token',
  claims: 'write claim/NAME: value (one claim per criterion)',
  device: 'to admit particular devices, pin their certificates with client_certificate (fingerprint or spki_hash)',
  emails: WITH_IN('email'),
  users: WITH_IN('user'),
  domains: WITH_IN('domain'),
  pomerium_routes: 'there is no equivalent; list who may use the route with allow rules',
};
const NEEDS_SIGN_IN = new Set(['groups', 'claim']);

/** Pomerium criteria that need something else mtls-edge does not have (a clock-based rule, data sources, MCP, SSH). */
const NOT_SUPPORTED: Readonly<Record<string, string>> = {
  date: 'time-based rules are not supported',
  day_of_week: 'time-based rules are not supported',
  time_of_day: 'time-based rules are not supported',
  record: 'external data sources (records) are not supported',
  mcp_tool: 'MCP routes are not supported',
  mcp_tools: 'MCP routes are not supported',
  cors_preflight:
    'it is not supported; the closest is http_method: OPTIONS (which admits every OPTIONS request, not ' +
    'only CORS preflights)',
};

/** The error for a criterion name (`name`, as written: `key`) that is not in the table, or needs sign-in. */
export function unsupportedMessage(name: string, key: string, signIn = false): string {
  const supported = `supported criteria: ${WRITTEN_CRITERION_NAMES.map(writtenName).join(', ')}`;
  if (NEEDS_SIGN_IN.has(name) && !signIn) {
    return (
      `"${key}" reads the signed-in user's ID token, and no identity provider is configured: set ` +
      `idp_provider_url, idp_client_id, idp_client_secret and cookie_secret (docs/sign-in.md); ` +
      NEEDS_IDENTITY_PROVIDER[name]
    );
  }
  const idpHint = NEEDS_IDENTITY_PROVIDER[name];
  if (idpHint !== undefined) {
    return `"${key}" is not supported: ${idpHint}`;
  }
  const reason = NOT_SUPPORTED[name] ?? (name.startsWith('ssh_') ? 'SSH routes are not supported' : undefined);
  if (reason !== undefined) {
    return `"${key}" cannot be used with mtls-edge: ${reason}; ${supported}`;
  }
  return `unknown criterion "${key}"; ${supported}`;
}
