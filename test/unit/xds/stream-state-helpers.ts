// Shared steps of the AdsStreamState tests: wildcard subscriptions, the one response of a request.
import assert from 'node:assert/strict';
import { AdsStreamState, type Snapshot } from '../../../control-plane/src/xds/index.js';
import { CDS, LDS, ackOf, type Response } from './fixtures.js';

/** Envoy always holds CDS and LDS subscriptions; without them a stream is never in sync. */
export function subscribeWildcards(stream: AdsStreamState, snapshot: Snapshot): void {
  for (const type_url of [CDS, LDS])
    stream.onRequest(ackOf(only(stream.onRequest({ type_url, resource_names: [] }, snapshot).responses)), snapshot);
}

export function only(responses: Response[]): Response {
  assert.equal(
    responses.length,
    1,
    `expected exactly one response, got ${responses.map((r) => r.type_url).join(', ') || 'none'}`,
  );
  return responses[0]!;
}
