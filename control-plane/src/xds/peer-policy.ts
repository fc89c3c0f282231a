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
  private readonly facts = new Map<string, PeerFacts>();

  constructor(private readonly allowedNodeIds: () => readonly string[] = () => []) {}

  /** The CA (bundle) whose certificates Envoys present; undefined: only the TLS handshake's own check applies. */
  setClientCa(pem: string | undefined): void {
    this.cas = pem ? certificateBlocks(pem).map((p) => parseCertificate(p).node) : [];
    this.facts.clear();
  }

  /** Why a stream may not speak as `nodeId`, or undefined. */
  streamRefusal(nodeId: string, peer: Uint8Array | 'local' | undefined, nowMs = Date.now()): string | undefined {
    if (peer === 'local' || peer === undefined) return nodeRefusalFor(nodeId, peer, undefined, this.allowedNodeIds());
    const f = this.factsOf(peer, nowMs);
    return this.current(f, nowMs) ?? nodeRefusalFor(nodeId, peer, f.claims, this.allowedNodeIds());
  }

  /** Why a unary call (ext_authz Check) may not be answered, or undefined. */
  callRefusal(peer: Uint8Array | 'local' | undefined, nowMs = Date.now()): string | undefined {
    if (peer === 'local' || peer === undefined) return callerRefusalFor(peer, undefined, this.allowedNodeIds());
    const f = this.factsOf(peer, nowMs);
    return this.current(f, nowMs) ?? callerRefusalFor(peer, f.claims, this.allowedNodeIds());
  }

  private current(f: PeerFacts, nowMs: number): string | undefined {
    if (f.problem) return f.problem;
    return nowMs > f.notAfterMs ? 'the client certificate has expired' : undefined;
  }

  private factsOf(der: Uint8Array, nowMs: number): PeerFacts {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
    let f = this.facts.get(key);
    if (!f) {
      f = examine(der, this.cas, nowMs);
      if (this.facts.size >= MAX_CACHED_PEERS) this.facts.clear();
      this.facts.set(key, f);
    }
    return f;
  }
}

function examine(der: Uint8Array, cas: X509Certificate[], nowMs: number): PeerFacts {
  let cert: ReturnType<typeof parseCertificate>;
  let claims: CertificateNodeClaims;
  try {
    cert = parseCertificate(der);
    claims = claimsOf(subjectAltNames(cert).uri);
  } catch {
    return { problem: 'the client certificate does not parse', notAfterMs: 0 };
  }
  const notAfterMs = cert.notAfterMs;
  if (nowMs < cert.notBeforeMs) return { claims, problem: 'the client certificate is not valid yet', notAfterMs };
  // Issued directly by a CA of the current bundle (`certs envoy` issues so): a CA removed from the file no longer
  // counts.
  if (cas.length > 0 && !cas.some((ca) => cert.node.checkIssued(ca) && cert.node.verify(ca.publicKey))) {
    return { claims, problem: 'the client certificate is not issued by a CA in xds_client_ca_file', notAfterMs };
  }
  return { claims, notAfterMs };
}
