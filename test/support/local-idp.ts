// `npm run idp`: the tests' OpenID provider (oidc-provider, on loopback), for trying sign-in on a laptop with the
// guide in docs/sign-in.md. Not for production: its users are two made-up people, its keys live in memory.
import { startIdp } from './oidc-idp.js';

/** What the guide's config names: the provider's URL, the client, and the edge's address as a browser opens it. */
export const LOCAL_IDP = {
  port: Number(process.env['IDP_PORT'] ?? 5556),
  clientId: 'mtls-edge',
  clientSecret: 'local-only-secret',
  edgeOrigins: (process.env['EDGE_ORIGINS'] ?? 'https://verify.localhost.pomerium.io:8443').split(','),
};

/** Starts the provider as the guide describes it; `port` 0 picks a free one (the guide's test). */
export function startLocalIdp(port = LOCAL_IDP.port, edgeOrigins = LOCAL_IDP.edgeOrigins) {
  return startIdp({
    port,
    users: [
      { id: 'alice', email: 'alice@example.com', name: 'Alice', groups: ['admins'] },
      { id: 'bob', email: 'bob@example.org', name: 'Bob', groups: ['staff'] },
    ],
    clients: [
      {
        clientId: LOCAL_IDP.clientId,
        clientSecret: LOCAL_IDP.clientSecret,
        redirectUris: edgeOrigins.map((o) => `${o}/.pomerium/callback`),
        postLogoutRedirectUris: edgeOrigins.map((o) => `${o}/`),
      },
    ],
  });
}

if (process.argv[1]?.endsWith('local-idp.js')) {
  const idp = await startLocalIdp();
  process.stdout.write(
    `a local OpenID provider for trying sign-in (not for production) at ${idp.issuer}\n` +
      `  client: ${LOCAL_IDP.clientId} / ${LOCAL_IDP.clientSecret}; redirect URIs: ` +
      `${LOCAL_IDP.edgeOrigins.map((o) => `${o}/.pomerium/callback`).join(', ')}\n` +
      '  users: alice (alice@example.com, group admins), bob (bob@example.org, group staff); no password\n' +
      'Ctrl-C stops it.\n',
  );
  process.once('SIGINT', () => void idp.stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void idp.stop().then(() => process.exit(0)));
}
