import type { Config, Result } from '../config/index.js';
import { defaultSigningKeyPath, jwks, loadOrCreateSigningKey, signingKeyFromPem, type SigningKey } from '../identity/index.js';

/**
 * The key that signs identity assertions: `signing_key` when the config has one, else a key generated once
 * and kept on disk (so that upstreams holding the JWKS keep trusting assertions across restarts). No key is
 * generated until a route passes identity headers.
 */
export class SigningKeys {
  private fromConfig: { pem: string; key: SigningKey } | undefined;
  private kept: SigningKey | undefined;

  constructor(
    private readonly configPath: string | undefined,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly onCreated: (path: string) => void = () => {},
  ) {}

  forConfig(config: Config): Result<SigningKey | undefined> {
    if (config.signingKey) {
      if (this.fromConfig?.pem !== config.signingKey.pem) {
        try {
          this.fromConfig = { pem: config.signingKey.pem, key: signingKeyFromPem(config.signingKey.pem) };
        } catch (e) {
          return { ok: false, errors: [{ ...config.signingKey.at, message: (e as Error).message }] };
        }
      }
      return { ok: true, value: this.fromConfig.key };
    }
    if (!config.routes.some((r) => r.passIdentityHeaders)) return { ok: true, value: this.kept };
    if (!this.kept) {
      const path = defaultSigningKeyPath(this.configPath, this.env);
      const loaded = loadOrCreateSigningKey(path);
      if (!loaded.ok) return { ok: false, errors: [{ file: config.sourceFile, key: 'signing_key', message: `no signing_key is set, and the generated one cannot be used: ${loaded.error}` }] };
      if (loaded.value.created) this.onCreated(path);
      this.kept = loaded.value.key;
    }
    return { ok: true, value: this.kept };
  }
}

/** The JWKS document Envoy serves for a key (compact: it travels inline in every route configuration). */
export function jwksDocument(key: SigningKey | undefined): string | undefined {
  return key ? JSON.stringify(jwks([key])) : undefined;
}
