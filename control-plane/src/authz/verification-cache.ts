import { createHash } from 'node:crypto';
import { certificateFingerprint } from '../certificates/index.js';
import {
  clientTrustId,
  verifyClientCertificate,
  type CertificateVerification,
  type ClientTrust,
} from '../identity/verify-certificate.js';
import { LruCache, type CacheStats } from './decision-cache.js';

const DEFAULT_VERIFICATION_CACHE_SIZE = 20_000;

/** The certificates of one check, read only when the verdict is not cached. */
export interface PresentedCertificates {
  leafPem: string;
  chainPems: string[];
}

/**
 * Verification verdicts by trust, leaf and chain: a client's requests after the first cost a map lookup.
 * The key holds the trust's id (a digest of CA, CRL, depth and SAN rules), so a changed trust never meets
 * a verdict made under the old one; a verdict is used only until its validUntilMs (the first notAfter or
 * CRL nextUpdate on the path, or the notBefore a refusal waits for).
 */
export class VerificationCache {
  private readonly lru: LruCache<CertificateVerification>;
  private hits = 0;
  private misses = 0;

  constructor(maxEntries: number = DEFAULT_VERIFICATION_CACHE_SIZE) {
    this.lru = new LruCache(maxEntries);
  }

  /**
   * `leafFingerprint`: SHA-256 (hex) of the leaf; `chainKey`: what identifies the intermediates sent with it
   * ('' for none; see {@link chainKey}). `certificates` is called on a miss only.
   */
  verify(
    trust: ClientTrust,
    leafFingerprint: string,
    chainKey: string,
    nowMs: number,
    certificates: () => PresentedCertificates,
  ): { result: CertificateVerification; cached: boolean } {
    const key = `${clientTrustId(trust)}\0${leafFingerprint}\0${chainKey}`;
    const known = this.lru.get(key);
    if (known && nowMs < known.validUntilMs) {
      this.hits++;
      return { result: known, cached: true };
    }
    this.misses++;
    const { leafPem, chainPems } = certificates();
    const result = verifyClientCertificate(leafPem, chainPems, trust, nowMs);
    this.lru.set(key, result);
    return { result, cached: false };
  }

  /** The same, from PEM text alone (fingerprint and chain key computed here). */
  verifyPem(
    trust: ClientTrust,
    leafPem: string,
    chainPems: string[],
    nowMs: number,
  ): { result: CertificateVerification; cached: boolean } {
    let fingerprint: string;
    try {
      // The same form as the identity's fingerprint, so that both ways to verify share entries.
      fingerprint = certificateFingerprint(leafPem);
    } catch {
      // Unparsable: not worth a cache entry; the verifier says why.
      return { result: verifyClientCertificate(leafPem, chainPems, trust, nowMs), cached: false };
    }
    return this.verify(trust, fingerprint, chainKey(chainPems.join('')), nowMs, () => ({ leafPem, chainPems }));
  }

  clear(): void {
    this.lru.clear();
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.lru.size };
  }
}

/** A short key for the intermediates a client sent ('' for none), so that cache keys stay small. */
export function chainKey(chainText: string): string {
  return chainText === '' ? '' : createHash('sha256').update(chainText).digest('base64');
}
