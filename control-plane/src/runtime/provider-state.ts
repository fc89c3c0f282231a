import type { Logger } from 'pino';
import { formatError, type Config, type Result } from '../config/index.js';
import { discoverProvider, ProviderWatcher, type DiscoveredProvider, type DiscoveryOptions } from './oidc-discovery.js';
import type { ReloadState } from './reloader.js';

/**
 * The identity provider's discovery across reloads. Every load reads it again; when the provider cannot be read:
 * - at start, the edge serves without sign-in (its signed-in routes answer 503) and keeps trying;
 * - later, for the same idp_provider_url, the last discovery keeps serving (an edit elsewhere still applies);
 * - for a new idp_provider_url, the edit is refused and the last good config keeps serving.
 * The errors are logged and shown in /status either way.
 */
/** How long a reload waits for a provider it has read before, per request (the document, then the keys). */
const RELOAD_TIMEOUT_MS = 2000;

export class ProviderState {
  #last: { issuer: string; provider: DiscoveredProvider | undefined } | undefined;
  #watcher: ProviderWatcher | undefined;
  #stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly state: ReloadState,
    private readonly options: DiscoveryOptions = {},
  ) {}

  /** The provider the serving config was built with, if any. */
  get current(): DiscoveredProvider | undefined {
    return this.#last?.provider;
  }

  /**
   * Reads the provider of `config` again every idp_refresh_interval, and calls `onChange` when what it says changed
   * (a new key; or the provider answers at last): the caller reloads. Replaces the watch of an earlier config.
   */
  watch(config: Config, onChange: () => void): void {
    this.#watcher?.stop();
    this.#watcher = undefined;
    const idp = config.identityProvider;
    if (idp === undefined || this.#stopped) return;
    this.#watcher = new ProviderWatcher(idp.issuer, idp.refreshMs, onChange, { ...this.options, at: idp.at });
    this.#watcher.start(this.current);
  }

  stopWatching(): void {
    this.#stopped = true;
    this.#watcher?.stop();
  }

  /**
   * What the provider of `config` says now, or what it said last. Nothing is kept until `commit` (the config
   * compiled and serves): a refused edit that named another provider leaves the serving one's discovery as it was.
   */
  async discover(config: Config, atStart: boolean): Promise<Result<Discovered>> {
    const idp = config.identityProvider;
    if (idp === undefined) {
      delete this.state.identityProviderErrors;
      return { ok: true, value: { record: undefined } };
    }
    // With a provider already read for this URL, a reload asks once and briefly: an edit (a CRL, a revoked
    // certificate) must not wait on a provider that stopped answering; the watcher keeps asking at its pace.
    const known = this.#last?.issuer === idp.issuer && this.#last.provider !== undefined;
    const quick: DiscoveryOptions = known ? { attempts: 1, timeoutMs: RELOAD_TIMEOUT_MS } : {};
    const found = await discoverProvider(idp.issuer, { ...this.options, ...quick, at: idp.at });
    if (found.ok) {
      delete this.state.identityProviderErrors;
      return { ok: true, value: { provider: found.value, record: { issuer: idp.issuer, provider: found.value } } };
    }
    this.state.identityProviderErrors = found.errors;
    const kept =
      this.#last?.issuer === idp.issuer
        ? this.#last
        : atStart
          ? { issuer: idp.issuer, provider: undefined }
          : undefined;
    if (kept === undefined) return found;
    for (const e of found.errors) {
      this.log.error(
        { key: e.key, error: formatError(e) },
        kept.provider
          ? 'cannot read the identity provider; sign-in goes on with what it said last'
          : 'cannot read the identity provider; routes that need sign-in answer 503 until it can be read',
      );
    }
    return { ok: true, value: { ...(kept.provider ? { provider: kept.provider } : {}), record: kept } };
  }

  /** The config `discovered` was for compiled and serves: its discovery is the one to fall back on from now. */
  commit(discovered: Discovered): void {
    this.#last = discovered.record;
  }
}

/** A discovery, and what to keep of it once its config serves (undefined: the config has no provider). */
export interface Discovered {
  provider?: DiscoveredProvider;
  record: { issuer: string; provider: DiscoveredProvider | undefined } | undefined;
}
