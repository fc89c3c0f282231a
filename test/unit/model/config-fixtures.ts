// Validated configs built by hand for the model and translator tests (no YAML, no files). Not a *.test.ts file.
import type { Config, RouteConfig } from '../../../control-plane/src/config/index.js';

/** A public route to 127.0.0.1:8080 on `host`, at position `index`; `extra` overrides any field. */
export function routeConfig(host: string, index = 0, extra: Partial<RouteConfig> = {}): RouteConfig {
  return {
    index,
    at: { file: 'config.yaml', line: index + 10, key: `routes[${index}]` },
    from: { host },
    to: [{ scheme: 'http', host: '127.0.0.1', port: 8080 }],
    match: { kind: 'prefix', value: '/' },
    preserveHostHeader: false,
    setRequestHeaders: [],
    removeRequestHeaders: [],
    timeoutMs: 30_000,
    upstreamTls: { skipVerify: false, allowRenegotiation: false },
    access: 'public',
    passIdentityHeaders: false,
    signIn: false,
    ...extra,
  };
}

/** A config of these routes, no global CA, reject_connection without a depth limit; `extra` overrides any field. */
export function edgeConfig(routes: RouteConfig[], extra: Partial<Config> = {}): Config {
  const addr = { host: '127.0.0.1', port: 1 };
  return {
    sourceFile: 'config.yaml',
    address: addr,
    adminAddress: addr,
    xdsAddress: addr,
    xdsAddressConfigured: false,
    envoyAdminAddress: addr,
    certificates: [],
    upstreamTrustPem: 'ROOTS',
    clientCertificateRules: { enforcement: 'reject_connection', maxVerifyDepth: 0, crls: [], matchSubjectAltNames: [] },
    forwardClientCert: [],
    jwtClaimsHeaders: [],
    accessLogFields: [],
    routes,
    ...extra,
  };
}
