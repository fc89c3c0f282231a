import type { X509Certificate } from 'node:crypto';
import { certificateBlocks, parseCertificate, subjectAltNames } from '../certificates/index.js';
import { claimsOf, nodeRefusalFor, callerRefusalFor, type CertificateNodeClaims } from './node-identity.js';

/**
 * What the control plane knows of a peer certificate: whom it names, whether the current CA issued it, and until when.
 */
interface PeerFacts {
  claims?: CertificateNodeClaims;
  /** Why the certificate is not (or no longer) one the control channel takes; undefined when it is. */
  problem?: string;
  notBeforeMs: number;
  notAfterMs: number;
}

/** Peers are few (the edge's Envoys) and present the same certificate on every call. */
const MAX_CACHED_PEERS = 1024;

/**
 * Who may use the control channel, decided with the CURRENT client CA and node list: at a stream's first message,
 * on every ext_authz call, and again for open streams whenever either changes or a certificate expires. The TLS
 * handshake checked the certificate once, against the CA of that moment; this keeps the answer current.
 */
export class PeerPolicy {
  private cas: X509Certificate[] = [];
  private caPem: string | undefined;
  private readonly facts = new Map<string, PeerFacts>();

  constructor(private readonly allowedNodeIds: () => readonly string[] = () => []) {}

  /** The CA (bundle) whose certificates Envoys present; undefined: only the TLS handshake's own check applies. */
  setClientCa(pem: string | undefined): void {
    // Every reload sets it; the same CA keeps what was learnt of each peer (re-verifying a fleet of certificates on
    // each edit cost the fan-out bench ~50 ms per edit for 100 Envoys).
    if (pem !== undefined && pem === this.caPem) return;
    this.caPem = pem;
    this.cas = pem ? certificateBlocks(pem).map((p) => parseCertificate(p).node) : [];
    this.facts.clear();
  }

  /** Why a stream may not speak as `nodeId`, or undefined. */
  streamRefusal(nodeId: string, peer: Uint8Array | 'local' | undefined, nowMs = Date.now()): string | undefined {
    if (peer === 'local' || peer === undefined) return nodeRefusalFor(nodeId, peer, undefined, this.allowedNodeIds());
    const f = this.factsOf(peer);
    return this.current(f, nowMs) ?? nodeRefusalFor(nodeId, peer, f.claims, this.allowedNodeIds());
  }

  /** Why a unary call (ext_authz Check) may not be answered, or undefined. */
  callRefusal(peer: Uint8Array | 'local' | undefined, nowMs = Date.now()): string | undefined {
    if (peer === 'local' || peer === undefined) return callerRefusalFor(peer, undefined, this.allowedNodeIds());
    const f = this.factsOf(peer);
    return this.current(f, nowMs) ?? callerRefusalFor(peer, f.claims, this.allowedNodeIds());
  }

  private current(f: PeerFacts, nowMs: number): string | undefined {
    if (nowMs < f.notBeforeMs) return 'the client certificate is not valid yet';
    if (f.problem) return f.problem;
    return nowMs > f.notAfterMs ? 'the client certificate has expired' : undefined;
  }

  private factsOf(der: Uint8Array): PeerFacts {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
    let f = this.facts.get(key);
    if (!f) {
      f = examine(der, this.cas);
      if (this.facts.size >= MAX_CACHED_PEERS) this.facts.clear();
      this.facts.set(key, f);
    }
    return f;
  }
}

function examine(der: Uint8Array, cas: X509Certificate[]): PeerFacts {
  let cert: ReturnType<typeof parseCertificate>;
  let claims: CertificateNodeClaims;
  try {
    cert = parseCertificate(der);
    claims = claimsOf(subjectAltNames(cert).uri);
  } catch {
    return { problem: 'the client certificate does not parse', notBeforeMs: 0, notAfterMs: 0 };
  }
  const { notBeforeMs, notAfterMs } = cert;
  // Issued directly by a CA of the current bundle (`certs envoy` issues so): a CA removed from the file no longer
  // counts.
  if (cas.length > 0 && !cas.some((ca) => cert.node.checkIssued(ca) && cert.node.verify(ca.publicKey))) {
    const problem = 'the client certificate is not issued by a CA in xds_client_ca_file';
    return { claims, problem, notBeforeMs, notAfterMs };
  }
  return { claims, notBeforeMs, notAfterMs };
}
