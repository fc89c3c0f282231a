import type { Snapshot } from './snapshot.js';
import type { Stream } from './ads-types.js';

/**
 * The ADS streams admitted, and which of them run the current snapshot in full. A stream's answer changes only with
 * its own requests or a new snapshot, so an ACK asks about its own stream instead of every stream: asking all of
 * them on each ACK made an edit quadratic in the Envoys (~100 ms of CPU per edit for 100 Envoys, fan-out bench).
 */
export class OpenStreams implements Iterable<Stream> {
  private readonly all = new Set<Stream>();
  private readonly synced = new Set<Stream>();

  get size(): number {
    return this.all.size;
  }

  [Symbol.iterator](): Iterator<Stream> {
    return this.all.values();
  }

  add(stream: Stream): void {
    this.all.add(stream);
  }

  /** False when the stream was not open. */
  delete(stream: Stream): boolean {
    this.synced.delete(stream);
    return this.all.delete(stream);
  }

  /** After anything that may change whether `stream` runs `snapshot` in full: its request, a new snapshot. */
  recheck(stream: Stream, snapshot: Snapshot | undefined): void {
    if (snapshot && this.all.has(stream) && stream.state.inSync(snapshot)) this.synced.add(stream);
    else this.synced.delete(stream);
  }

  /** After a new snapshot: a stream it changes nothing for may be in sync at once. */
  recheckAll(snapshot: Snapshot): void {
    for (const s of this.all) this.recheck(s, snapshot);
  }

  /** Whether `stream` ran the snapshot last given to `recheck` for it in full. */
  inSync(stream: Stream): boolean {
    return this.synced.has(stream);
  }

  /** At least one stream, and every one in sync. */
  allInSync(): boolean {
    return this.all.size > 0 && this.synced.size === this.all.size;
  }
}
