import type { Config, Result } from '../config/index.js';
import {
  defaultSigningKeyPath,
  jwks,
  loadOrCreateSigningKey,
  signingKeyFromPem,
  type SigningKey,
} from '../identity/index.js';

/**
 * The key that signs identity assertions: the first of `signing_key`'s keys when the config has them (all of them
 * published), else a key generated once and kept on disk (so that upstreams holding the JWKS keep trusting
 * assertions across restarts). No key is generated until a route passes identity headers.
 */
export class SigningKeys {
  private fromConfig: { pem: string; key: SigningKey } | undefined;
  /** The config's other keys (published, never signing), by PEM: parsed once. */
  private othersByPem = new Map<string, SigningKey>();
  private kept: SigningKey | undefined;
  /** The generated key's predecessor: still published, so that JWTs it signed verify until they expire. */
  private retired: SigningKey | undefined;
  private active: SigningKey | undefined;
  private configured: SigningKey[] | undefined;

  /**
   * `requireConfigured`: `--no-envoy`, one replica of several. Each must sign with the same key and publish the
   * same JWKS (the JWKS travels inside route configurations, which must be byte-identical across replicas), so a
   * key made here is refused: the keys come from the config, and only from it.
   */
  constructor(
    private readonly configPath: string | undefined,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly onCreated: (path: string) => void = () => {},
    private readonly requireConfigured = false,
  ) {}

  /**
   * The keys the JWKS lists: the config's keys in their order, or the generated key; then, for a single `run`, the
   * key that signed before the last change, if the config no longer lists it (replicas publish only the config's).
   */
  published(): SigningKey[] {
    const current = this.configured ?? (this.active ? [this.active] : []);
    const retired = this.retired;
    if (!retired || current.some((k) => k.kid === retired.kid)) return current;
    return [...current, retired];
  }

  forConfig(config: Config): Result<SigningKey | undefined> {
    if (config.signingKey) return this.fromConfigKeys(config.signingKey);
    if (this.requireConfigured) {
      const message =
        'set signing_key, SIGNING_KEY or signing_key_file: with --no-envoy this is one of several replicas, which ' +
        'must all sign identity headers with the same key. Create one with `mtls-edge certs signing-key` and give ' +
        'the same file to every replica (signing_key_file, e.g. a mounted Secret)';
      return { ok: false, errors: [{ file: config.sourceFile, key: 'signing_key', message }] };
    }
    const chosen = this.generated(config);
    if (chosen.ok) {
      this.retire(chosen.value);
      this.configured = undefined;
    }
    return chosen;
  }

  /** `next` signs from now on; the key it replaces stays published (a single `run` only: see published()). */
  private retire(next: SigningKey | undefined): void {
    if (next?.kid === this.active?.kid) return;
    if (this.active && !this.requireConfigured) this.retired = this.active;
    this.active = next;
  }

  private fromConfigKeys(input: NonNullable<Config['signingKey']>): Result<SigningKey | undefined> {
    try {
      if (this.fromConfig?.pem !== input.pem) this.fromConfig = { pem: input.pem, key: signingKeyFromPem(input.pem) };
      const others = input.others.map((pem) => this.othersByPem.get(pem) ?? signingKeyFromPem(pem));
      this.othersByPem = new Map(input.others.map((pem, i) => [pem, others[i]!]));
      this.retire(this.fromConfig.key);
      this.configured = [this.fromConfig.key, ...others];
      return { ok: true, value: this.fromConfig.key };
    } catch (e) {
      return { ok: false, errors: [{ ...input.at, message: (e as Error).message }] };
    }
  }

  private generated(config: Config): Result<SigningKey | undefined> {
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
