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
    collectAndCompact();
    liveAfterLastCollection = process.memoryUsage().heapUsed;
  });
}

/**
 * A full collection that also compacts the old generation. The old config's objects lay between the new one's, and
 * a plain collection frees them but keeps every page that still holds a live object: at 10,000 routes the heap kept
 * ~75 MiB of pages for ~25 MiB of objects until V8's memory reducer compacted them some 20 s later. Compacting
 * moves the ~25 MiB once (tens of ms, after Envoy has settled) and gives the pages back now.
 */
function collectAndCompact(): void {
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc?.();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}
