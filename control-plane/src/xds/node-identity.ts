import { parseCertificate, subjectAltNames } from '../certificates/index.js';

/**
 * How an Envoy's client certificate says which node ids it may use: URI SANs, never the subject (a CN is free
 * text; a URI SAN of this exact form is unambiguous). `mtls-edge certs envoy` issues both kinds.
 * - `urn:mtls-edge:node:<id>`: this certificate is the Envoy `<id>`, and only that one.
 * - `urn:mtls-edge:fleet:<name>`: one certificate for a fleet; each member uses a node id listed in `xds_node_ids`.
 */
export const NODE_URI_PREFIX = 'urn:mtls-edge:node:';
export const FLEET_URI_PREFIX = 'urn:mtls-edge:fleet:';

export interface CertificateNodeClaims {
  nodes: string[];
  fleets: string[];
}

/** The node ids and fleets a DER certificate names in its URI SANs. */
function nodeClaims(der: Uint8Array): CertificateNodeClaims {
  return claimsOf(subjectAltNames(parseCertificate(der)).uri);
}

/** The node ids and fleets among a certificate's URI SANs. */
export function claimsOf(uris: readonly string[]): CertificateNodeClaims {
  return {
    nodes: uris.filter((u) => u.startsWith(NODE_URI_PREFIX)).map((u) => u.slice(NODE_URI_PREFIX.length)),
    fleets: uris.filter((u) => u.startsWith(FLEET_URI_PREFIX)).map((u) => u.slice(FLEET_URI_PREFIX.length)),
  };
}

/**
 * Whether a stream may speak as `nodeId`. `peer` is the client certificate of a TLS connection, or `local` for the
 * private socket of `run`'s own Envoy (only this process's user can open it). Returns why not, or undefined.
 */
export function nodeRefusal(
  nodeId: string,
  peer: Uint8Array | 'local' | undefined,
  allowedNodeIds: readonly string[],
): string | undefined {
  let claims: CertificateNodeClaims | undefined;
  if (peer !== 'local' && peer !== undefined) {
    try {
      claims = nodeClaims(peer);
    } catch {
      return 'the client certificate does not parse';
    }
  }
  return nodeRefusalFor(nodeId, peer, claims, allowedNodeIds);
}

/** `nodeRefusal` with the certificate's claims already read (PeerPolicy caches them per certificate). */
export function nodeRefusalFor(
  nodeId: string,
  peer: Uint8Array | 'local' | undefined,
  claims: CertificateNodeClaims | undefined,
  allowedNodeIds: readonly string[],
): string | undefined {
  if (nodeId === '') return 'the stream names no node id';
  if (peer === 'local') return undefined;
  if (peer === undefined || claims === undefined) return 'the connection presented no client certificate';
  const listed = allowedNodeIds.includes(nodeId);
  if (claims.nodes.includes(nodeId)) {
    return allowedNodeIds.length === 0 || listed
      ? undefined
      : `node id ${JSON.stringify(nodeId)} is not in xds_node_ids`;
  }
  if (claims.fleets.length > 0 && listed) return undefined;
  const names = [
    ...claims.nodes.map((n) => `node ${JSON.stringify(n)}`),
    ...claims.fleets.map((f) => `fleet ${JSON.stringify(f)}`),
  ];
  const named = names.length > 0 ? `names ${names.join(', ')}` : `names no node (a URI SAN ${NODE_URI_PREFIX}<id>)`;
  const fleetHint = claims.fleets.length > 0 ? `; a fleet certificate may only use the node ids in xds_node_ids` : '';
  return `node id ${JSON.stringify(nodeId)} is not the one the client certificate ${named}${fleetHint}`;
}

/**
 * Whether a unary call (ext_authz Check) may be answered: Check carries no node id, so the caller's certificate must
 * name a node this control plane serves (listed in `xds_node_ids` when that is set), or a fleet while it is set.
 */
export function callerRefusalFor(
  peer: Uint8Array | 'local' | undefined,
  claims: CertificateNodeClaims | undefined,
  allowedNodeIds: readonly string[],
): string | undefined {
  if (peer === 'local') return undefined;
  if (peer === undefined || claims === undefined) return 'the connection presented no client certificate';
  if (claims.nodes.some((n) => allowedNodeIds.length === 0 || allowedNodeIds.includes(n))) return undefined;
  if (claims.fleets.length > 0 && allowedNodeIds.length > 0) return undefined;
  return 'the client certificate names no node this control plane serves';
}
