import { CRITERION_NAMES } from './criteria.js';

/** Why a Pomerium criterion mtls-edge does not support is refused, and what to write instead. */

const WITH_IN = (criterion: string) =>
  `use "${criterion}" (with "in" for several values), which mtls-edge reads from the client certificate`;
const BY_CERTIFICATE =
  'use client_certificate (fingerprint, spki_hash, or san_dns / san_email / san_uri / ' +
  'san_user_principal_name matchers), or email / user / domain, which mtls-edge reads from the client certificate';

/**
 * Pomerium criteria that rest on an identity provider's session or directory. mtls-edge has none: the client
 * certificate is the identity. Each maps to the nearest criterion it does support, if there is one.
 */
const NEEDS_IDENTITY_PROVIDER: Readonly<Record<string, string>> = {
  groups:
    'to admit a group of people, list them with email: {in: [...]}, or match their certificates with ' +
    'client_certificate (e.g. san_email: {ends_with: "@team.example.com"})',
  claim: BY_CERTIFICATE,
  claims: BY_CERTIFICATE,
  device: 'to admit particular devices, pin their certificates with client_certificate (fingerprint or spki_hash)',
  emails: WITH_IN('email'),
  users: WITH_IN('user'),
  domains: WITH_IN('domain'),
  pomerium_routes: 'there is no equivalent; list who may use the route with allow rules',
};

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

/** The error for a criterion name (`name`, as written: `key`) that is not in the table. */
export function unsupportedMessage(name: string, key: string): string {
  const supported = `supported criteria: ${CRITERION_NAMES.join(', ')}`;
  const idpHint = NEEDS_IDENTITY_PROVIDER[name];
  if (idpHint !== undefined) {
    const hint = name === 'claim' || name === 'claims' ? claimHint(key) : idpHint;
    return (
      `"${key}" needs an identity provider, which mtls-edge does not have (identity comes from the ` +
      `client certificate): ${hint}`
    );
  }
  const reason = NOT_SUPPORTED[name] ?? (name.startsWith('ssh_') ? 'SSH routes are not supported' : undefined);
  if (reason !== undefined) {
    return (
      `"${key}" cannot be used with mtls-edge, which has no identity provider and decides from the ` +
      `client certificate and the request alone: ${reason}; ${supported}`
    );
  }
  return `unknown criterion "${key}"; ${supported}`;
}

/** `claim/email` has a direct equivalent; other claims can only be approached through the certificate. */
function claimHint(key: string): string {
  const claim = key.slice(key.indexOf('/') + 1);
  if (key.includes('/') && ['email', 'user', 'domain'].includes(claim))
    return `use the "${claim}" criterion, which mtls-edge reads from the client certificate`;
  return BY_CERTIFICATE;
}
