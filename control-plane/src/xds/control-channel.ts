import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { PeerPolicy } from './peer-policy.js';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaCertificateUpdateListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityCertificateUpdateListener = grpc.experimental.IdentityCertificateUpdateListener;

/** The control channel's TLS material: the server's certificate and key, and the CA Envoys' certificates chain to. */
export interface ChannelTlsMaterial {
  certPem: string;
  keyPem: string;
  clientCaPem: string;
}

/**
 * Server credentials for the control channel that can change while the server runs: a new certificate, key or client
 * CA applies to the next TLS handshake, and connections already open (Envoy's ADS stream) keep going. A client
 * without a certificate from the CA fails the handshake; nothing reaches a gRPC handler without one.
 */
export class ControlChannelCredentials implements CertificateProvider {
  private material: ChannelTlsMaterial;
  private readonly caListeners = new Set<CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<IdentityCertificateUpdateListener>();
  readonly credentials: grpc.ServerCredentials;

  constructor(material: ChannelTlsMaterial) {
    this.material = material;
    // One provider gives both the identity and the CA, so the order of these two arguments cannot matter.
    this.credentials = grpc.experimental.createCertificateProviderServerCredentials(this, this, true);
  }

  /** Rotation: the next handshake uses the new material. Unchanged material is not re-applied. */
  update(material: ChannelTlsMaterial): boolean {
    const m = this.material;
    if (m.certPem === material.certPem && m.keyPem === material.keyPem && m.clientCaPem === material.clientCaPem)
      return false;
    this.material = material;
    for (const l of this.identityListeners) l(this.identity());
    for (const l of this.caListeners) l(this.ca());
    return true;
  }

  // grpc-js registers its own watcher only after adding these listeners: the first value must come a moment later.
  addCaCertificateListener(listener: CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => this.caListeners.has(listener) && listener(this.ca()));
  }
  removeCaCertificateListener(listener: CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => this.identityListeners.has(listener) && listener(this.identity()));
  }
  removeIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }

  private identity() {
    return { certificate: Buffer.from(this.material.certPem), privateKey: Buffer.from(this.material.keyPem) };
  }
  private ca() {
    return { caCertificate: Buffer.from(this.material.clientCaPem) };
  }
}

/** The client certificate of a TLS stream (DER), `local` for the private socket, undefined for neither. */
export function peerOf(
  call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'getAuthContext' | 'getPeer'>,
  servesPrivateSocket: boolean,
): Uint8Array | 'local' | undefined {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  if (raw) return raw;
  // A Unix socket has no remote address; every TCP connection has one (and TLS with a verified certificate).
  return servesPrivateSocket && call.getPeer() === 'unknown' ? 'local' : undefined;
}

/**
 * Wraps a service's unary handlers (ext_authz Check): only callers whose certificate names a node we serve get an
 * answer.
 */
export function guardUnaryMethods(
  implementation: grpc.UntypedServiceImplementation,
  o: { servesPrivateSocket: () => boolean; peers: PeerPolicy; log: Logger },
): grpc.UntypedServiceImplementation {
  const guarded: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(implementation)) {
    guarded[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const refusal = o.peers.callRefusal(peerOf(call, o.servesPrivateSocket()));
      if (refusal === undefined) return (handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
      o.log.warn({ method: name, peer: call.getPeer(), reason: refusal }, 'control channel call refused');
      callback({ code: grpc.status.PERMISSION_DENIED, details: refusal });
    };
  }
  return guarded;
}
