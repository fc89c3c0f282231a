import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { claimHeaderValue, identityFromEnvoyCertificate, type AssertionSigner } from '../identity/index.js';
import type { CertificateIdentity } from '../identity/types.js';
import { CLIENT_CERTIFICATE_STATE_HEADER, evaluatePolicy, PEER_HEADERS, type RequestFacts } from '../policy/index.js';
import { AssertionCache, DenyError, type AssertionSubject } from './assertions.js';
import { DecisionCache, DEFAULT_DECISION_CACHE_SIZE, sessionDigest, type CacheStats } from './decision-cache.js';
import { denialReason } from './denial-reason.js';
import { envoyCacheSeconds } from './envoy-cache.js';
import { chainKey, VerificationCache } from './verification-cache.js';
import type { AuthorizationRoute, AuthorizationTable } from './types.js';
import {
  CERTIFICATE_ERROR_STATUS,
  denied,
  allowResponse,
  overwrite,
  requestHeader,
  sessionPayload,
  type CheckRequest,
  type CheckResponse,
  type HeaderValueOption,
} from './check-wire.js';

export const ASSERTION_HEADER = 'x-pomerium-jwt-assertion';
export const UNKNOWN_ROUTE_REASON =
  'this route is not known to the control plane (a config change is in flight); try again';
export const ERROR_REASON = 'authorization error';
export const INVALID_CERTIFICATE_REASON = 'the client certificate is not valid for this route';

export interface DecisionOutcome {
  allowed: boolean;
  /** The decision came from the cache (the policy was not evaluated). */
  cached: boolean;
}

export interface AuthorizationServiceOptions {
  /** The current table; a different Map object than last time means a new config, and empties the caches. */
  table: () => AuthorizationTable;
  /**
   * Signs X-Pomerium-Jwt-Assertion; undefined while no signing key is loaded (routes passing identity then fail
   * closed).
   */
  signer: () => AssertionSigner | undefined;
  log: Logger;
  /** Milliseconds since the epoch (tests move time). */
  now?: () => number;
  /** Called once per Check, for metrics. */
  onDecision?: (outcome: DecisionOutcome) => void;
  /** Client certificate verdicts kept (LRU, by trust, certificate and chain). */
  verificationCacheSize?: number;
  /** Decisions kept (LRU). */
  cacheSize?: number;
}

/**
 * Envoy's ext_authz service: decides a route's PPL policy for the request's client certificate (and, on a
 * signed-in route, its session), and signs the identity assertion for routes that pass identity headers. It fails
 * closed: any error is a 403.
 */
export class AuthorizationService {
  private readonly decisions: DecisionCache;
  private readonly verifications: VerificationCache;
  private readonly assertions: AssertionCache;
  private readonly now: () => number;

  constructor(private readonly options: AuthorizationServiceOptions) {
    const size = options.cacheSize ?? DEFAULT_DECISION_CACHE_SIZE;
    this.decisions = new DecisionCache(size);
    this.verifications = new VerificationCache(options.verificationCacheSize);
    this.now = options.now ?? Date.now;
    this.assertions = new AssertionCache(size, options.signer, this.now);
  }

  /** Decision cache counters. */
  stats(): CacheStats {
    return this.decisions.stats();
  }

  /** Certificate verification cache counters. */
  verificationStats(): CacheStats {
    return this.verifications.stats();
  }

  /** The gRPC handlers, for `server.addService(loadAuthorizationService(), service.implementation())`. */
  implementation(): grpc.UntypedServiceImplementation {
    return {
      Check: (call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>, callback: grpc.sendUnaryData<CheckResponse>) => {
        this.check(call.request).then(
          (response) => callback(null, response),
          (err: unknown) => {
            // check() does not reject; this is the last line of failing closed.
            this.options.log.error({ err }, 'ext_authz check failed');
            callback(null, denied(ERROR_REASON));
          },
        );
      },
    };
  }

  /** One Check: never rejects; an unexpected error is logged and denied. */
  async check(request: CheckRequest): Promise<CheckResponse> {
    let outcome: DecisionOutcome = { allowed: false, cached: false };
    let routeName: string | undefined;
    try {
      const table = this.options.table();
      if (this.decisions.useTable(table)) this.assertions.clear();
      const attributes = request.attributes ?? {};
      routeName = attributes.context_extensions?.['route'];
      const route = routeName === undefined ? undefined : table.get(routeName);
      if (!route) {
        this.options.log.warn({ route: routeName }, 'ext_authz check for an unknown route');
        return denied(UNKNOWN_ROUTE_REASON);
      }
      const http = attributes.request?.http ?? {};
      const certificate = attributes.source?.certificate ?? '';
      // A certificate Envoy marked invalid, or one sent for a route that trusts no CA, proves nothing: no identity.
      const identity =
        certificate !== '' && route.clientTrust && requestHeader(http, CLIENT_CERTIFICATE_STATE_HEADER) !== 'invalid'
          ? identityFromEnvoyCertificate(certificate)
          : undefined;
      /** Until when the certificate's chain and CRLs hold (ms): what Envoy may keep an allow for, at most. */
      let trustedUntilMs: number | undefined;
      if (identity) {
        // Whoever sent this check, the certificate must pass the route's current trust before it names anyone.
        const verdict = this.verify(route, identity, certificate, requestHeader(http, PEER_HEADERS.chain) ?? '');
        // 495 as Envoy's own check answers: typically a connection made before a trust change (a CA rotated, a
        // certificate revoked…), whose requests the stale route configuration sends here
        // (translate/stale-route-configuration.ts).
        if ('reason' in verdict)
          return denied(`${INVALID_CERTIFICATE_REASON}: ${verdict.reason}`, CERTIFICATE_ERROR_STATUS);
        trustedUntilMs = verdict.trustedUntilMs;
      }
      const method = http.method ?? '';
      const path = stripQuery(http.path ?? '');
      // Read only on a signed-in route, where Envoy validated the ID token just before: elsewhere no policy reads
      // one, and the caches' keys leave it out.
      const payload = route.signIn ? sessionPayload(request) : undefined;
      const session = payload && { payload, digest: sessionDigest(payload) };
      const key = DecisionCache.key(route, identity?.fingerprint, method, path, session?.digest);
      let decision = this.decisions.get(key, route);
      outcome = { allowed: false, cached: decision !== undefined };
      if (!decision) {
        const facts: RequestFacts = {
          method,
          path,
          identity,
          invalidClientCertificate: route.clientCaRequired && !identity,
          ...(payload ? { session: payload } : {}),
        };
        decision = evaluatePolicy(route.policy, facts);
        this.decisions.set(key, route, decision);
      }
      if (this.options.log.isLevelEnabled('debug'))
        this.options.log.debug(
          {
            route: route.name,
            fingerprint: identity?.fingerprint,
            sub: payload?.['sub'],
            method,
            path,
            allowed: decision.allowed,
            cached: outcome.cached,
            reason: decision.reason,
          },
          'ext_authz decision',
        );
      if (!decision.allowed) {
        const shown = identity
          ? 'valid'
          : !route.clientCaRequired
            ? 'not-asked'
            : certificate === ''
              ? 'none'
              : 'not-valid';
        return denied(denialReason(decision.pageReason ?? decision.reason, shown, route.policy));
      }
      const response = await this.allowed(route, { identity, session }, trustedUntilMs);
      outcome = { ...outcome, allowed: true };
      return response;
    } catch (err) {
      if (err instanceof DenyError) {
        this.options.log.warn(
          { route: routeName, reason: err.message },
          'ext_authz denied a request the policy allows',
        );
        return denied(err.message);
      }
      this.options.log.error({ err, route: routeName }, 'ext_authz check failed; denying');
      return denied(ERROR_REASON);
    } finally {
      this.report(outcome);
    }
  }

  /**
   * Why the certificate does not verify under the route's trust (cached verdicts), or until when it does: the first
   * notAfter on its path and its issuer's CRL's nextUpdate (none without a trust).
   */
  private verify(
    route: AuthorizationRoute,
    identity: CertificateIdentity,
    certificate: string,
    chain: string,
  ): { reason: string } | { trustedUntilMs?: number } {
    const trust = route.clientTrust;
    if (!trust) return {};
    const { result, cached } = this.verifications.verify(
      trust,
      identity.fingerprint,
      chainKey(chain),
      this.now(),
      () => ({
        leafPem: decodeURIComponent(certificate),
        chainPems: chain === '' ? [] : [safeDecode(chain)],
      }),
    );
    if (result.ok) return { trustedUntilMs: result.validUntilMs };
    // Warn once per verdict: a client retrying with the same certificate must not flood the log.
    const fields = { route: route.name, fingerprint: identity.fingerprint, reason: result.reason };
    if (cached) this.options.log.debug(fields, 'ext_authz refused a client certificate (cached verdict)');
    else
      this.options.log.warn(
        fields,
        "ext_authz refused a client certificate that does not verify under the route's trust",
      );
    return { reason: result.reason };
  }

  private async allowed(
    route: AuthorizationRoute,
    subject: AssertionSubject,
    trustedUntilMs: number | undefined,
  ): Promise<CheckResponse> {
    const { identity } = subject;
    const headers: HeaderValueOption[] = [];
    let assertionExpiresAtMs: number | undefined;
    // On a signed-in route the assertion names the session's user: none without a session.
    if (route.passIdentityHeaders && (route.signIn ? subject.session : identity)) {
      const assertion = await this.assertions.get(route, subject);
      assertionExpiresAtMs = assertion.expiresAtMs;
      headers.push(overwrite(ASSERTION_HEADER, assertion.jwt));
      for (const [name, claim] of route.claimsHeaders) {
        const value = claimHeaderValue(assertion.claims, claim);
        if (value !== undefined) headers.push(overwrite(name, value));
      }
    }
    // A client's own copies of identity headers must not reach the upstream as if they came from here.
    const set = new Set(headers.map((h) => h.header.key.toLowerCase()));
    const remove = [ASSERTION_HEADER, ...route.claimsHeaders.map(([name]) => name.toLowerCase())].filter(
      (name) => !set.has(name),
    );
    // Envoy's identity cache keys an allow by route and certificate alone: a signed-in route's allow is the
    // session's, so it is never offered there (nor does the cache run on those routes: identity-cache.ts).
    const keep =
      identity && trustedUntilMs !== undefined && !route.signIn
        ? envoyCacheSeconds(route, this.now(), trustedUntilMs, assertionExpiresAtMs)
        : undefined;
    return allowResponse(headers, [...new Set(remove)], keep);
  }

  private report(outcome: DecisionOutcome): void {
    try {
      this.options.onDecision?.(outcome);
    } catch (err) {
      this.options.log.warn({ err }, 'ext_authz decision callback failed');
    }
  }
}

/** A chain that is not URL-encoded text is no chain (the leaf alone must then verify). */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}

function stripQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}
