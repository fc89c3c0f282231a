import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import Provider, { type Account, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { newSigningKey } from './oidc-idp-keys.js';
import { interaction } from './oidc-idp-interaction.js';
import { logoutSource, postLogoutSuccessSource, renderError } from './oidc-idp-pages.js';
import { createIdpStore } from './oidc-idp-store.js';

export { foreignKey, mintIdToken } from './oidc-idp-keys.js';

/** A user who can sign in by typing `id` or `email` in the login form. `extra` claims come with scope `profile`. */
export interface IdpUser {
  id: string;
  email: string;
  emailVerified?: boolean;
  groups: string[];
  name?: string;
  extra?: Record<string, unknown>;
  /** This user's ID tokens live this long (their access token as long as everyone's). */
  idTokenTtlSeconds?: number;
}

/** A confidential web client; it may authenticate with client_secret_basic or client_secret_post. */
export interface IdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

/** Requests per endpoint, counted by exact path: the RP's authorization requests, not their resumption. */
export interface IdpCounts {
  token: number;
  authorization: number;
  endSession: number;
  discovery: number;
  jwks: number;
}

export interface StartedIdp {
  /** `http://127.0.0.1:PORT`; the discovery document is at issuer + '/.well-known/openid-configuration'. */
  issuer: string;
  port: number;
  /** The signing keys as private JWKs, the one in use first, so that a test can mint what the IdP would sign. */
  signingKeys(): JWK[];
  /**
   * A new signing key, used from now on: a new Provider with it first (and, unless `keepOld` is false, the key
   * in use until now second) takes over on the same port. Sessions and tokens issued so far stay valid.
   */
  rotateKeys(opts?: { keepOld?: boolean }): Promise<void>;
  /** Closes the server and every open connection; idempotent. */
  stop(): Promise<void>;
  /** Stops listening and drops every connection (the IdP is down: connection refused), as stop() does ... */
  pause(): Promise<void>;
  /** ... and listens again on the same port, with the same sessions and keys; idempotent. */
  resume(): Promise<void>;
  /** Requests per endpoint (answered or refused), for assertions; live, never reset. */
  counts: IdpCounts;
}

export interface IdpOptions {
  users: IdpUser[];
  clients: IdpClient[];
  /** 0 (the default): a free port chosen by the OS. */
  port?: number;
  /** The ID token's and the access token's lifetime; 3600 by default. */
  idTokenTtlSeconds?: number;
  /** The name of the claim that carries the groups (scope `groups`); `groups` by default. */
  groupsClaim?: string;
}

/** The ID token lifetime of the user it is for, when the user has one of their own. */
function idTokenTtl(opts: IdpOptions, ctx: KoaContextWithOIDC, token: unknown): number | undefined {
  const available = (token as { available?: { sub?: unknown } }).available;
  const sub =
    available?.sub ?? ctx.oidc.entities.AuthorizationCode?.accountId ?? ctx.oidc.entities.RefreshToken?.accountId;
  return opts.users.find((u) => u.id === sub)?.idTokenTtlSeconds;
}

/** The endpoints' paths, set here rather than taken from oidc-provider's defaults, so that counting can't drift. */
const ROUTES = {
  authorization: '/auth',
  token: '/token',
  end_session: '/session/end',
  jwks: '/jwks',
  userinfo: '/me',
} as const;
const DISCOVERY = '/.well-known/openid-configuration';
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)$/;

/** A real OpenID Connect provider (oidc-provider) on 127.0.0.1 over plain HTTP, with a login form and no consent. */
export async function startIdp(opts: IdpOptions): Promise<StartedIdp> {
  const counts: IdpCounts = { token: 0, authorization: 0, endSession: 0, discovery: 0, jwks: 0 };
  const counted: Record<string, keyof IdpCounts> = {
    [ROUTES.authorization]: 'authorization',
    [ROUTES.token]: 'token',
    [ROUTES.end_session]: 'endSession',
    [ROUTES.jwks]: 'jwks',
    [DISCOVERY]: 'discovery',
  };
  const store = createIdpStore();
  // One set of cookie keys for every Provider of this IdP: a browser's session survives a key rotation.
  const cookieKeys = [randomBytes(32).toString('base64url')];
  let keys = [await newSigningKey()];
  let provider: Provider | undefined;
  let callback: ReturnType<Provider['callback']> | undefined;

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://idp').pathname;
    const endpoint = counted[path];
    if (endpoint) counts[endpoint] += 1;
    const uid = INTERACTION.exec(path)?.[1];
    if (!provider || !callback) return void res.writeHead(503).end('the test IdP is starting');
    if (uid !== undefined) return void interaction(provider, opts.users, uid, req, res);
    void callback(req, res);
  });
  await listen(server, opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const install = () => {
    provider = new Provider(issuer, configuration(opts, { keys, cookieKeys, adapter: store }));
    callback = provider.callback();
  };
  install();

  const close = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    // A client in this process (fetch's pool) learns that its kept-alive socket was closed only when the event
    // loop next polls (a setImmediate is too soon): until then its next request fails on the dead socket
    // ('other side closed') instead of dialling anew and being refused, as a client in another process is.
    await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return {
    issuer,
    port,
    counts,
    signingKeys: () => keys.map((key) => ({ ...key })),
    async rotateKeys({ keepOld = true } = {}) {
      const previous = keys[0];
      keys = [await newSigningKey(), ...(keepOld && previous ? [previous] : [])];
      install();
    },
    stop: close,
    pause: close,
    resume: () => (server.listening ? Promise.resolve() : listen(server, port)),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function configuration(
  opts: IdpOptions,
  made: { keys: JWK[]; cookieKeys: string[]; adapter: Configuration['adapter'] },
): Configuration {
  const ttl = opts.idTokenTtlSeconds ?? 3600;
  const groupsClaim = opts.groupsClaim ?? 'groups';
  const extraClaims = [...new Set(opts.users.flatMap((user) => Object.keys(user.extra ?? {})))];
  return {
    adapter: made.adapter,
    jwks: { keys: made.keys },
    cookies: { keys: made.cookieKeys },
    routes: ROUTES,
    clients: opts.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
      // 'web' takes http and https redirect URIs on any host, loopback included ('native' refuses https there).
      application_type: 'web',
      // oidc-provider accepts client_secret_post too from a client registered for basic (and the other way round).
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
    })),
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', ...extraClaims],
      groups: [groupsClaim],
    },
    // By default the ID token of a code flow that also issues an access token carries only `sub`, the rest being
    // left to userinfo; an edge proxy reads the claims from the ID token.
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => {
      const user = opts.users.find((u) => u.id === sub);
      return user && account(user, groupsClaim);
    },
    // Consent is given, without a page, for whatever was asked: the grant is made when the session needs one.
    loadExistingGrant: (ctx) => autoGrant(ctx),
    // Every confidential client that may refresh gets a refresh token, without asking for offline_access (and
    // its consent prompt), as the IdPs an edge proxy meets do.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      // A user may have a shorter-lived ID token (an expiry test), while the access token keeps the edge's session.
      IdToken: (ctx, token) => idTokenTtl(opts, ctx, token) ?? ttl,
      AccessToken: ttl,
      AuthorizationCode: 60,
      RefreshToken: 86_400,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      userinfo: { enabled: true },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
    },
    renderError,
  };
}

function account(user: IdpUser, groupsClaim: string): Account {
  return {
    accountId: user.id,
    claims: () => ({
      email: user.email,
      email_verified: user.emailVerified ?? true,
      ...(user.name === undefined ? {} : { name: user.name }),
      [groupsClaim]: user.groups,
      ...user.extra,
      sub: user.id,
    }),
  };
}

async function autoGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const accountId = oidc.session?.accountId;
  const clientId = oidc.client?.clientId;
  if (accountId === undefined || clientId === undefined) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  const grant =
    (grantId && (await oidc.provider.Grant.find(grantId))) || new oidc.provider.Grant({ accountId, clientId });
  grant.addOIDCScope(oidc.requestParamOIDCScopes);
  grant.addOIDCClaims(oidc.requestParamClaims);
  await grant.save();
  return grant;
}
