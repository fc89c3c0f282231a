import type { Config, Result } from '../config/index.js';
import {
  defaultSigningKeyPath,
  jwks,
  loadOrCreateSigningKey,
  signingKeyFromPem,
  type SigningKey,
} from '../identity/index.js';

/**
 * The key that signs identity assertions: `signing_key` when the config has one, else a key generated once
 * and kept on disk (so that upstreams holding the JWKS keep trusting assertions across restarts). No key is
 * generated until a route passes identity headers.
 */
export class SigningKeys {
  private fromConfig: { pem: string; key: SigningKey } | undefined;
  private kept: SigningKey | undefined;
  /** The key used before the current one: still published, so that JWTs it signed verify until they expire. */
  private retired: SigningKey | undefined;
  private active: SigningKey | undefined;

  constructor(
    private readonly configPath: string | undefined,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly onCreated: (path: string) => void = () => {},
  ) {}

  /** The keys the JWKS lists: the one that signs now, and the one before it. */
  published(): SigningKey[] {
    return [this.active, this.retired].filter((k): k is SigningKey => k !== undefined && k !== null);
  }

  forConfig(config: Config): Result<SigningKey | undefined> {
    const chosen = this.choose(config);
    if (chosen.ok && chosen.value?.kid !== this.active?.kid) {
      if (this.active) this.retired = this.active;
      this.active = chosen.value;
    }
    return chosen;
  }

  private choose(config: Config): Result<SigningKey | undefined> {
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
      if (!loaded.ok)
        return {
          ok: false,
          errors: [
            {
              file: config.sourceFile,
              key: 'signing_key',
              message: `no signing_key is set, and the generated one cannot be used: ${loaded.error}`,
            },
          ],
        };
      if (loaded.value.created) this.onCreated(path);
      this.kept = loaded.value.key;
    }
    return { ok: true, value: this.kept };
  }
}

/** The JWKS document Envoy serves for the published keys (compact: it travels inline in every route configuration). */
export function jwksDocument(keys: SigningKey[]): string | undefined {
  return keys.length > 0 ? JSON.stringify(jwks(keys)) : undefined;
}
