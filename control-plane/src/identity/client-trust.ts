// What a route trusts for client certificates, parsed once per trust object and digested into an id that
// names the verdicts it gives (authz/verification-cache.ts keys on it).
import { createHash } from 'node:crypto';
import {
  certificateBlocks,
  parseCertificate,
  parseCrl,
  type ParsedCertificate,
  type ParsedCrl,
  type SanMatcher,
} from '../certificates/index.js';

/** What a route trusts: the client certificate rules of its validation context (model/authorization.ts). */
export interface ClientTrust {
  /** The route's CA bundle (PEM): its own, else the global one. */
  caPem: string;
  /** The CRLs (PEM) issued by CAs of the bundle; empty: no revocation check. */
  crlPem: string;
  /** Envoy's max_verify_depth: certificates above the leaf, the anchor included; 0: no limit (BoringSSL's 100). */
  maxVerifyDepth: number;
  matchSubjectAltNames: SanMatcher[];
  /**
   * Only certificates issued directly by a CA of caPem (a host whose routes trust different CAs: model/shared-host.ts).
   */
  directIssuerOnly?: boolean;
}

/** BoringSSL's default verify depth, the limit when max_verify_depth is 0. */
const DEFAULT_DEPTH = 100;

export interface ParsedTrust {
  id: string;
  anchors: ParsedCertificate[];
  anchorFingerprints: Set<string>;
  crls: ParsedCrl[];
  sanMatchers: Array<{ type: SanMatcher['type']; regex: RegExp; source: string }>;
  /** Certificates allowed above the leaf. */
  depth: number;
  error?: string;
}

const parsedTrusts = new WeakMap<ClientTrust, ParsedTrust>();

/**
 * A digest of everything the verdict depends on besides the certificates and the time: CA and CRL content,
 * depth and SAN matchers. Equal trusts (also from two control planes reading one YAML) have equal ids.
 */
export function clientTrustId(trust: ClientTrust): string {
  return parsedTrust(trust).id;
}

export function parsedTrust(trust: ClientTrust): ParsedTrust {
  let parsed = parsedTrusts.get(trust);
  if (!parsed) {
    parsed = parseTrust(trust);
    parsedTrusts.set(trust, parsed);
  }
  return parsed;
}

function parseTrust(trust: ClientTrust): ParsedTrust {
  const depthLimit = trust.maxVerifyDepth > 0 ? trust.maxVerifyDepth : DEFAULT_DEPTH;
  const out: ParsedTrust = {
    id: '',
    anchors: [],
    anchorFingerprints: new Set(),
    crls: [],
    sanMatchers: [],
    depth: trust.directIssuerOnly ? Math.min(1, depthLimit) : depthLimit,
  };
  const crlDigests: string[] = [];
  try {
    out.anchors = certificateBlocks(trust.caPem).map(parseCertificate);
    if (out.anchors.length === 0) throw new Error('no CA certificate');
    out.anchorFingerprints = new Set(out.anchors.map((a) => a.fingerprint));
    for (const m of trust.crlPem.matchAll(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g)) {
      const crl = parseCrl(m[0]);
      out.crls.push(crl);
      crlDigests.push(createHash('sha256').update(crl.tbs).update(crl.signature).digest('hex'));
    }
    // RE2 full match, as Envoy's safe_regex matchers: anchored here.
    out.sanMatchers = trust.matchSubjectAltNames.map((m) => ({
      type: m.type,
      regex: new RegExp(`^(?:${m.regex})$`),
      source: m.regex,
    }));
  } catch (e) {
    out.error = (e as Error).message;
  }
  const content = {
    anchors: [...out.anchorFingerprints].sort(),
    crls: crlDigests.sort(),
    depth: out.depth,
    san: trust.matchSubjectAltNames.map((m) => [m.type, m.regex]),
    error: out.error ?? null,
  };
  out.id = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 24);
  return out;
}
