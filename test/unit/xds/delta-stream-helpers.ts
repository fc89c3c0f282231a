// Shared steps of the DeltaStreamState tests: the one response of a request, subscribe-and-ACK, hashes.
import assert from 'node:assert/strict';
import { DeltaStreamState, type Snapshot } from '../../../control-plane/src/xds/index.js';
import { deltaAckOf, type DeltaResponse } from './fixtures.js';

export function only(responses: DeltaResponse[]): DeltaResponse {
  assert.equal(
    responses.length,
    1,
    `expected exactly one response, got ${responses.map((r) => r.type_url).join(', ') || 'none'}`,
  );
  return responses[0]!;
}

/** Subscribes and ACKs in one go; returns the response that was ACKed. */
export function subscribeAndAck(
  stream: DeltaStreamState,
  typeUrl: string,
  names: string[],
  snapshot: Snapshot,
): DeltaResponse {
  const r = only(stream.onRequest({ type_url: typeUrl, resource_names_subscribe: names }, snapshot).responses);
  assert.equal(stream.onRequest(deltaAckOf(r), snapshot).outcome, 'ack');
  return r;
}

export function hashOf(snapshot: Snapshot, typeUrl: string, name: string): string {
  return snapshot.types.get(typeUrl)!.resources.get(name)!.hash;
}
