import type { ResourceCodec } from '../envoy-api/index.js';
import type { Logger } from 'pino';
import { formatError, loadConfigFile, type Config, type ConfigError } from '../config/index.js';
import { compile, summarize, type Compiled } from '../pipeline.js';
import type { SigningKey } from '../identity/index.js';
import type { AdsServer } from '../xds/index.js';
import { jwksDocument, SigningKeys, type ChosenKeys } from './signing-keys.js';
import { ProviderState, type Discovered } from './provider-state.js';

export interface ReloadState {
  reloads: number;
  failures: number;
  lastAttempt?: string;
  lastApplied?: string;
  /** Errors of the last attempt; empty once a good config applied. The serving config is the last good one. */
  errors: ConfigError[];
  /** Why the identity provider could not be read the last time it was asked (absent: it could, or no sign-in). */
  identityProviderErrors?: ConfigError[];
}

export type ReloadOutcome =
  | { ok: true; config: Config; compiled: Compiled; files: string[] }
  | { ok: false; errors: ConfigError[]; files: string[] };

export interface LoadedConfig {
  ok: true;
  config: Config;
  keys: ChosenKeys;
  files: string[];
  /** What the identity provider's discovery said (`provider` absent: no sign-in, or it could not be read yet). */
  discovered: Discovered;
}
type LoadOutcome = LoadedConfig | { ok: false; errors: ConfigError[]; files: string[] };

/** A config that compiled, just before Envoy is told: what the ext_authz service must know by then. */
export type AppliedListener = (compiled: Compiled, signingKey: SigningKey | undefined) => void;

/**
 * Loads the config again and, when it is valid and different, hands the new snapshot to the xDS server.
 * A broken edit changes nothing that Envoy sees: its errors go to the log and to /status.
 */
export class ConfigReloader {
  readonly state: ReloadState = { reloads: 0, failures: 0, errors: [] };
  private queue: Promise<unknown> = Promise.resolve();
  /** The identity provider's discovery, kept across reloads (runtime/provider-state.ts). */
  readonly providers: ProviderState;

  constructor(
    private readonly configPath: string | undefined,
    private readonly env: Readonly<Record<string, string | undefined>>,
    /** Called on the first compile, not before: `run` starts Envoy while the Envoy API loads (issue 14, point 3). */
    private readonly codec: () => ResourceCodec,
    private readonly ads: AdsServer,
    private readonly log: Logger,
    private readonly onApplied: AppliedListener = () => {},
    /** One replica of several (`--no-envoy`): signing keys come only from the config (SigningKeys). */
    replica = false,
    private readonly signingKeys = new SigningKeys(
      configPath,
      env,
      (path) => log.info({ path }, 'generated a signing key for identity headers'),
      replica,
    ),
  ) {
    this.providers = new ProviderState(log, this.state);
  }

  /**
   * One reload at a time, in the order they were asked for: reading the signing keys awaits their thumbprints, and
   * an older edit must never be applied after a newer one.
   */
  reload(): Promise<ReloadOutcome> {
    const outcome = this.queue.then(async () => {
      const now = new Date();
      const loaded = await this.load(now);
      return loaded.ok ? this.apply(loaded, now) : loaded;
    });
    this.queue = outcome.catch(() => undefined);
    return outcome;
  }

  /** Settles once every reload asked for so far has finished (a stop waits for it before closing the server). */
  whenIdle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /** Reads and validates the config and its signing keys; nothing is translated or served yet. */
  async load(now = new Date()): Promise<LoadOutcome> {
    this.state.lastAttempt = now.toISOString();
    const loaded = loadConfigFile(this.configPath, this.env);
    if (!loaded.result.ok) return this.reject(loaded.result.errors, loaded.files);
    const config = loaded.result.value;
    const keys = await this.signingKeys.forConfig(config);
    if (!keys.ok) return this.reject(keys.errors, loaded.files);
    const provider = await this.providers.discover(config, this.ads.current === undefined);
    if (!provider.ok) return this.reject(provider.errors, loaded.files);
    return { ok: true, config, keys: keys.value, files: loaded.files, discovered: provider.value };
  }

  /** Translates what `load` read and, when it differs from what is served, hands it to the xDS server. */
  apply(loaded: LoadedConfig, now = new Date()): ReloadOutcome {
    const { config, keys, files, discovered } = loaded;
    const provider = discovered.provider;
    const compiled = compile(config, this.codec(), { jwks: jwksDocument(keys.published), provider });
    if (!compiled.ok) return this.reject(compiled.errors, files);
    this.providers.commit(discovered);
    this.onApplied(compiled.value, keys.signer);

    this.state.errors = [];
    this.state.lastApplied = now.toISOString();
    const previous = this.ads.current?.version;
    const version = compiled.value.snapshot.version;
    if (previous === version) {
      this.log.info({ version }, 'config unchanged');
    } else {
      this.state.reloads++;
      this.ads.setSnapshot(compiled.value.snapshot);
      this.log.info({ version, previous, ...summarize(compiled.value), config: config.sourceFile }, 'config applied');
    }
    return { ok: true, config, compiled: compiled.value, files };
  }

  private reject(errors: ConfigError[], files: string[]): { ok: false; errors: ConfigError[]; files: string[] } {
    this.state.failures++;
    this.state.errors = errors;
    for (const e of errors)
      this.log.error(
        { file: e.file, line: e.line, key: e.key, error: formatError(e) },
        'config rejected; the last good config keeps serving',
      );
    return { ok: false, errors, files };
  }
}
