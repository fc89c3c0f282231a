import { errorAt, type Config, type Result } from '../config/index.js';
import {
  defaultSigningKeyPath,
  jwks,
  loadOrCreateSigningKey,
  signingKeyFromPem,
  type SigningKey,
} from '../identity/index.js';

/** What one config asks for: the key that signs, and the keys the JWKS lists. */
export interface ChosenKeys {
  signer: SigningKey | undefined;
  published: SigningKey[];
}

/**
 * The keys of identity assertions, as a function of the config alone: `signing_key`'s keys when it has them (the
 * first signs, all are published; rotating is an edit that lists the new key beside the old one, then drops the
 * old), else a key generated once and kept on disk (so that upstreams holding the JWKS keep trusting assertions
 * across restarts; none until a route passes identity headers). Nothing is remembered from an earlier config: a key
 * the config drops (a leaked one, say) is gone from the JWKS at once, every replica publishes what its config says,
 * and an edit that is refused later on changes nothing.
 */
export class SigningKeys {
  /** Parsed keys by PEM, so that an unchanged key is not parsed on every reload (bounded: reloads bring new PEMs). */
  private parsed = new Map<string, SigningKey>();
  private kept: SigningKey | undefined;

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

  async forConfig(config: Config): Promise<Result<ChosenKeys>> {
    if (config.signingKey) return await this.configured(config.signingKey);
    if (this.requireConfigured) {
      const message =
        'set signing_key, SIGNING_KEY or signing_key_file: with --no-envoy this is one of several replicas, which ' +
        'must all sign identity headers with the same key. Create one with `mtls-edge certs signing-key` and give ' +
        'the same file to every replica (signing_key_file, e.g. a mounted Secret)';
      return { ok: false, errors: [{ file: config.sourceFile, key: 'signing_key', message }] };
    }
    const generated = await this.generated(config);
    if (!generated.ok) return generated;
    const signer = generated.value;
    return { ok: true, value: { signer, published: signer ? [signer] : [] } };
  }

  private async configured(input: NonNullable<Config['signingKey']>): Promise<Result<ChosenKeys>> {
    try {
      const keys = await Promise.all([input.pem, ...input.others].map((pem) => this.parse(pem)));
      return { ok: true, value: { signer: keys[0], published: keys } };
    } catch (e) {
      return { ok: false, errors: [errorAt(input.at, (e as Error).message)] };
    }
  }

  private async parse(pem: string): Promise<SigningKey> {
    let key = this.parsed.get(pem);
    if (!key) {
      key = await signingKeyFromPem(pem);
      if (this.parsed.size >= 16) this.parsed.clear();
      this.parsed.set(pem, key);
    }
    return key;
  }

  private async generated(config: Config): Promise<Result<SigningKey | undefined>> {
    if (!config.routes.some((r) => r.passIdentityHeaders)) return { ok: true, value: this.kept };
    if (!this.kept) {
      const path = defaultSigningKeyPath(this.configPath, this.env);
      const loaded = await loadOrCreateSigningKey(path);
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
