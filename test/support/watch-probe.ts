import { watch } from 'node:fs';

/** Long enough for a loaded CI machine; a wait that runs out fails the test with what it waited for. */
const WAIT_MS = 10_000;

/** Counts a callback's calls, and lets a test wait for the n-th one instead of sleeping and counting. */
export class CallLog {
  private calls = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  /** Pass this as the callback. */
  readonly record = (): void => {
    this.calls++;
    this.waiters = this.waiters.filter((w) => (w.n <= this.calls ? (w.resolve(), false) : true));
  };

  get count(): number {
    return this.calls;
  }

  /** Resolves once there have been `n` calls in all; rejects after WAIT_MS. */
  waitForCall(n: number, what: string): Promise<void> {
    if (this.calls >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what}: call ${n} did not come in ${WAIT_MS} ms (${this.calls} so far)`)),
        WAIT_MS,
      );
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/**
 * An independent witness of a folder's file events (plain fs.watch, not the code under test): `quiet()`
 * resolves once `quietMs` have passed since the last event it saw. With `quietMs` longer than the debounce
 * of the watcher under test, that watcher has by then made every call those events could cause, because it
 * got each event no later than the witness did and its timer is shorter. So "no further call" is checked
 * after an observed event, not after a guessed sleep.
 */
export function folderWitness(
  dirs: readonly string[],
  quietMs: number,
): { quiet(what: string): Promise<void>; close(): void } {
  let events = 0;
  let wake: (() => void) | undefined;
  const watchers = dirs.map((dir) =>
    watch(dir, { persistent: false }, () => {
      events++;
      wake?.();
    }),
  );
  return {
    quiet: (what) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => {
          wake = undefined;
          reject(new Error(`${what}: no file event seen in ${WAIT_MS} ms`));
        }, WAIT_MS);
        let quietTimer: NodeJS.Timeout | undefined;
        const restart = () => {
          clearTimeout(quietTimer);
          quietTimer = setTimeout(() => {
            wake = undefined;
            clearTimeout(deadline);
            resolve();
          }, quietMs);
        };
        wake = restart;
        // Events seen before the wait began count too: the quiet period starts now at the latest.
        if (events > 0) restart();
      }),
    close: () => {
      for (const w of watchers) w.close();
    },
  };
}
