import type { Logger } from 'pino';
import { isAlive } from './envoy-home.js';

/** What `run` does with its Envoy, whether it started it or adopted it. */
export interface LocalEnvoy {
  readonly pid: number | undefined;
  readonly adopted: boolean;
  start(onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  stop(graceMs?: number): Promise<void>;
  killNow(): void;
}

/**
 * An Envoy a previous `run` started and left serving when it died. It is not our child: its exit is seen by polling,
 * and its logs went to the pipes of the run that died (they are not forwarded; the next start of `run` after a clean
 * stop has them again).
 */
export class AdoptedEnvoy implements LocalEnvoy {
  readonly adopted = true;
  private watch: NodeJS.Timeout | undefined;
  private stopRequested = false;

  constructor(
    readonly pid: number,
    private readonly log: Logger,
    private readonly pollMs = 250,
  ) {}

  start(onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.log.warn(
      { pid: this.pid },
      'adopted the Envoy a previous run left serving; its logs are not forwarded until the next clean restart',
    );
    this.watch = setInterval(() => {
      if (isAlive(this.pid)) return;
      clearInterval(this.watch);
      this.log.info({ pid: this.pid }, 'envoy exited');
      if (!this.stopRequested) onUnexpectedExit(null, null);
    }, this.pollMs);
  }

  killNow(): void {
    this.stopRequested = true;
    clearInterval(this.watch);
    this.signal('SIGKILL');
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopRequested = true;
    clearInterval(this.watch);
    if (!isAlive(this.pid)) return;
    this.signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(this.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.signal('SIGKILL');
    // SIGKILL cannot be ignored; a second is the most the kernel takes to end it.
    const killed = Date.now() + 1000;
    while (isAlive(this.pid) && Date.now() < killed) await new Promise((r) => setTimeout(r, 20));
    this.log.info({ pid: this.pid }, 'envoy exited');
  }

  /** It may have exited (and been reaped by another) since we looked: that is the outcome wanted. */
  private signal(signal: NodeJS.Signals): void {
    try {
      if (isAlive(this.pid)) process.kill(this.pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') this.log.warn({ err: String(e) }, `cannot send ${signal}`);
    }
  }
}
