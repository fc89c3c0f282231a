import { TEXT, textOrList, type JsonSchema } from '../../source/json-schema.js';
import type { IDENTITY_PROVIDER_KEYS, IDENTITY_PROVIDER_LIST_KEYS } from '../identity-provider.js';
import { DEFAULT_SCOPES } from '../identity-provider.js';
import type { OptionTable } from './option-spec.js';

type Key = (typeof IDENTITY_PROVIDER_KEYS)[number] | (typeof IDENTITY_PROVIDER_LIST_KEYS)[number];

const URL_TEXT: JsonSchema = { type: 'string', pattern: '^https?://', description: 'an http(s) URL' };
const ONLY_TRUE: JsonSchema = { const: true, description: 'only true: the session cookies are always this' };

/** Sign-in with an OpenID Connect provider: the keys Pomerium uses (see docs/sign-in.md). */
export const IDENTITY_PROVIDER_OPTIONS: OptionTable<Key> = {
  idp_provider: { schema: { enum: ['oidc'] }, summary: 'the kind of identity provider: `oidc`', default: '`oidc`' },
  idp_provider_url: {
    schema: URL_TEXT,
    summary:
      'the OpenID Connect issuer URL; its `/.well-known/openid-configuration` and keys are read at start, on ' +
      'every reload and every `idp_refresh_interval`. Setting it turns on sign-in',
    default: 'none: no sign-in',
  },
  idp_client_id: { schema: TEXT, summary: 'the client id registered at the identity provider' },
  idp_client_secret: { schema: TEXT, summary: "the client's secret (never logged, sent to Envoy as an SDS secret)" },
  idp_client_secret_file: { schema: TEXT, summary: 'the same, read from a file' },
  idp_scopes: {
    schema: textOrList(),
    summary: 'the scopes asked for (a list, or words separated by commas); `openid` is always added',
    default: DEFAULT_SCOPES.map((s) => `\`${s}\``).join(', '),
  },
  idp_groups_claim: {
    schema: TEXT,
    summary: "the ID token claim that lists the user's groups, read by the `groups` criterion",
    default: '`groups`',
  },
  idp_refresh_interval: {
    schema: TEXT,
    summary:
      "how often the provider's discovery document and keys are read again (a duration); a changed key reaches " +
      'Envoy then, and a provider that was down at start is tried again',
    default: '`5m`',
  },
  authenticate_service_url: {
    schema: { ...URL_TEXT, pattern: '^https://' },
    summary:
      'one https origin whose `/oauth2/callback` takes every sign-in (register only it at the provider); needs ' +
      '`cookie_domain` covering it and the routes',
    default: "each route's host takes its own callback at `/.pomerium/callback`",
  },
  cookie_secret: {
    schema: TEXT,
    summary: 'base64 of 32 random bytes that sign and encrypt the session cookies; the same on every replica',
    default: 'required with sign-in',
  },
  cookie_secret_file: { schema: TEXT, summary: 'the same, read from a file' },
  cookie_name: {
    schema: TEXT,
    summary: "the session cookies' name (each cookie adds a suffix)",
    default: '`_pomerium`',
  },
  cookie_expire: {
    schema: TEXT,
    summary: "the session's lifetime when the provider's token response gives none (a duration: `14h`)",
    default: '`14h`',
  },
  cookie_domain: {
    schema: TEXT,
    summary: 'the domain the session cookies are for (its subdomains too)',
    default: 'the host that set them',
  },
  cookie_secure: { schema: ONLY_TRUE, summary: 'always true: the cookies are sent over HTTPS only', default: 'true' },
  cookie_http_only: {
    schema: ONLY_TRUE,
    summary: 'always true: page scripts cannot read the cookies',
    default: 'true',
  },
  cookie_same_site: {
    schema: { type: 'string', pattern: '^([Ll][Aa][Xx]|[Nn][Oo][Nn][Ee])$' },
    summary:
      '`lax` or `none`, for the session cookies; not `strict`: a browser sends no Strict cookie on the redirect ' +
      "back from the provider's site, and every sign-in would loop",
    default: '`lax`',
  },
};
