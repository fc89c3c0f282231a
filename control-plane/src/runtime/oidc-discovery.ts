// OpenID Connect discovery: before Envoy config is built, the control plane reads the provider's
// /.well-known/openid-configuration (Envoy's oauth2 filter needs its endpoints) and its JWKS (Envoy's jwt_authn
// filter gets the keys inline, so that every Envoy verifies with the keys the control plane saw). This file does
// the I/O; config/oidc-provider-document.ts and config/oidc-jwks.ts judge what was read.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseJwks } from '../config/oidc-jwks.js';
import { discoveryDocumentUrl, parseProviderDocument } from '../config/oidc-provider-document.js';
import { errorAt, type ConfigError, type Location, type Result } from '../source/diagnostics.js';

export interface DiscoveredProvider {
  /** Exactly as the document says; equal to idp_provider_url but for one trailing '/' (Discovery §4.3). */
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  endSessionEndpoint?: string;
  jwksUri: string;
  /**
   * The JWKS as served, less the keys Envoy cannot verify with, re-serialized canonically (keys sorted by kid then
   * by JSON) so that the same keys give byte-identical text: it goes into Envoy config, whose version is a hash of
   * the content.
   */
  jwksJson: string;
  /** The signing algorithms the keys can verify (from each key's alg, or from kty/crv when absent). */
  algorithms: string[];
}

export interface DiscoveryOptions {
  /** Per attempt, reading the whole answer included. Default 5000. */
  timeoutMs?: number;
  /** Default 3. Only network errors, timeouts and 5xx answers are tried again. */
  attempts?: number;
  /** Before the second attempt; doubled before each later one. Default 500. */
  retryDelayMs?: number;
  fetch?: typeof fetch;
  /** Where idp_provider_url was set, for the errors. Default: file "(config)", no line. */
  source?: { file: string; line?: number };
  /** Where idp_provider_url was set, as the config read it (its errors keep the lazy line): wins over `source`. */
  at?: Location;
  /** Stops the discovery (an attempt under way, or a wait between attempts): it then ends with an error. */
  signal?: AbortSignal;
}

/** A hostile or broken endpoint cannot make the control plane hold more than this of one answer. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Reads the discovery document of `providerUrl` (idp_provider_url, the issuer) and the JWKS it names. Only http and
 * https: http is for loopback test providers; production should use https. Errors are values, at idp_provider_url.
 */
export async function discoverProvider(
  providerUrl: string,
  options: DiscoveryOptions = {},
): Promise<Result<DiscoveredProvider>> {
  const at: Location = options.at ?? {
    file: options.source?.file ?? '(config)',
    line: options.source?.line,
    key: 'idp_provider_url',
  };
  const documentUrl = discoveryDocumentUrl(providerUrl, at);
  if (!documentUrl.ok) return documentUrl;
  const hint = '(is the identity provider running, and is idp_provider_url its issuer URL?)';
  const documentText = await readText(documentUrl.value, documentUrl.value, hint, at, options);
  if (!documentText.ok) return documentText;
  const document = parseProviderDocument(documentText.value, providerUrl, documentUrl.value, at);
  if (!document.ok) return document;
  const jwksUri = document.value.jwksUri;
  const jwksText = await readText(jwksUri, `jwks_uri ${jwksUri}`, '(the discovery document names it)', at, options);
  if (!jwksText.ok) return jwksText;
  const keys = parseJwks(jwksText.value, jwksUri, at);
  if (!keys.ok) return keys;
  return { ok: true, value: { ...document.value, ...keys.value } };
}

type Attempt = { ok: true; text: string } | { ok: false; reason: string; retry: boolean };

/** The text at `url`, tried `attempts` times while the failure may pass (network, timeout, 5xx). */
async function readText(
  url: string,
  what: string,
  hint: string,
  at: Location,
  options: DiscoveryOptions,
): Promise<Result<string>> {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 3));
  let delayMs = options.retryDelayMs ?? 500;
  for (let n = 1; ; n++) {
    const result = await attempt(url, options);
    if (result.ok) return { ok: true, value: result.text };
    const fail = (message: string): Result<string> => ({ ok: false, errors: [errorAt(at, message)] });
    if (options.signal?.aborted) return fail(`reading ${what} was stopped`);
    if (!result.retry || n >= attempts) {
      const tries = n > 1 ? ` after ${n} attempts` : '';
      return fail(`cannot read ${what}: ${result.reason}${tries} ${hint}`);
    }
    try {
      await sleep(delayMs, undefined, { signal: options.signal });
    } catch {
      return fail(`reading ${what} was stopped`);
    }
    delayMs *= 2;
  }
}

async function attempt(url: string, options: DiscoveryOptions): Promise<Attempt> {
  const timeoutMs = options.timeoutMs ?? 5000;
  // Each attempt has its own deadline, which covers the body too: a server that sends headers and then stalls
  // is a timeout, not a hang.
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    const response = await (options.fetch ?? fetch)(url, { signal, headers: { accept: 'application/json' } });
    if (!response.ok) {
      await response.body?.cancel();
      const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      return { ok: false, reason: `the server answered ${status}`, retry: response.status >= 500 };
    }
    return await boundedText(response);
  } catch (e) {
    return { ok: false, reason: networkReason(e, deadline.aborted, timeoutMs), retry: true };
  }
}

/** The body as text, unless it is longer than MAX_ANSWER_BYTES: then it is not read further. */
async function boundedText(response: Response): Promise<Attempt> {
  const tooLarge: Attempt = { ok: false, reason: `the answer is larger than ${MAX_ANSWER_BYTES} bytes`, retry: false };
  if (Number(response.headers.get('content-length') ?? 0) > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    return tooLarge;
  }
  if (response.body === null) return { ok: true, text: '' };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      return tooLarge;
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

/** Node's fetch reports the system's error code in `cause` (for several addresses, in `cause.errors`). */
const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate does not name the host',
};

function networkReason(e: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no complete answer within ${timeoutMs} ms`;
  const cause = (e as { cause?: { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === 'string') {
    const known = NETWORK_REASONS[code];
    if (known !== undefined) return known;
    if (/CERT|SELF_SIGNED|SIGNATURE|ISSUER/.test(code)) {
      return `its TLS certificate is not trusted (${code}; for a private CA, set NODE_EXTRA_CA_CERTS)`;
    }
    return `${code}${typeof cause?.message === 'string' ? ` (${cause.message})` : ''}`;
  }
  if (typeof cause?.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/** The provider in one text that is equal exactly when the providers are. */
function stableText(p: DiscoveredProvider): string {
  const fields = [p.issuer, p.authorizationEndpoint, p.tokenEndpoint, p.endSessionEndpoint ?? null, p.jwksUri];
  return JSON.stringify([...fields, p.jwksJson, p.algorithms]);
}

/**
 * Runs discovery again every `intervalMs`, so that a provider's new endpoints or rotated keys reach Envoy without a
 * restart. The next run starts an interval after the last one ended (runs never overlap, however slow the
 * provider); its timer does not keep the process alive. onChange gets a provider that differs from the last one
 * seen; onError gets each failed run's errors, and the last good provider stays the one to compare with.
 */
export class ProviderWatcher {
  #timer: NodeJS.Timeout | undefined;
  #last = '';
  #run: AbortController | undefined;

  constructor(
    private readonly url: string,
    private readonly intervalMs: number,
    private readonly onChange: (p: DiscoveredProvider) => void,
    private readonly options: DiscoveryOptions & { onError?: (errors: ConfigError[]) => void } = {},
  ) {}

  /**
   * Starts watching, with `initial` (the discovery the config was built with) as the last provider seen; undefined
   * (the provider could not be read): the first discovery that succeeds is a change.
   */
  start(initial: DiscoveredProvider | undefined): void {
    this.stop();
    this.#last = initial === undefined ? '' : stableText(initial);
    const run = new AbortController();
    this.#run = run;
    this.#schedule(run);
  }

  /** Clears the timer and stops a run under way: nothing is called after this. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#run?.abort();
    this.#run = undefined;
  }

  #schedule(run: AbortController): void {
    this.#timer = setTimeout(() => void this.#check(run), this.intervalMs);
    this.#timer.unref();
  }

  async #check(run: AbortController): Promise<void> {
    const { onError, signal, ...options } = this.options;
    const stop = signal ? AbortSignal.any([signal, run.signal]) : run.signal;
    const result = await discoverProvider(this.url, { ...options, signal: stop });
    // Stopped (or started again) while this run was under way: its result is nobody's any more.
    if (run.signal.aborted || signal?.aborted) return;
    this.#schedule(run);
    if (!result.ok) {
      onError?.(result.errors);
      return;
    }
    const text = stableText(result.value);
    if (text === this.#last) return;
    this.#last = text;
    this.onChange(result.value);
  }
}
