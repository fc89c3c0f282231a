import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Node offers no collection API without --expose-gc; turning the flag on here and reading `gc` from a fresh
// context is the documented way to get it at run time.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

/** Garbage that may pile up between collections; a full collection also costs the next reload some speed. */
const SLACK_BYTES = 64 * 2 ** 20;
let liveAfterLastCollection = 0;
let scheduled = false;

/**
 * A reload replaces the whole config (tens of MB of objects at 10,000 routes) at once, and V8 lets that
 * garbage pile up towards its own heap limit. Once Envoy has settled on a new config (so that no ACK waits,
 * and never on the request path: Envoy serves requests), this collects when more than SLACK_BYTES of
 * garbage may have gathered, which keeps the resident memory near what the control plane really uses.
 */
export function collectGarbageIfGrown(): void {
  if (scheduled || !gc || process.memoryUsage().heapUsed - liveAfterLastCollection < SLACK_BYTES) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    gc?.();
    liveAfterLastCollection = process.memoryUsage().heapUsed;
  });
}
