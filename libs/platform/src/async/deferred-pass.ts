import type { DbPurposes } from '../db/db-purpose';

/**
 * Work run once a while after it is asked for, however often it is asked meanwhile, never two at
 * once, and again after a run while `again` says so. Nothing is armed until it is asked for, so an
 * idle node is not woken for nothing. It runs under the `background` purpose: it is armed inside
 * whichever request asked first, but the work is the node's own.
 */
export class DeferredPass {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly purposes: DbPurposes,
    private readonly work: () => Promise<void>,
    private readonly again: () => boolean = () => false,
  ) {}

  request(afterMs: number): void {
    if (this.timer || this.running || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.purposes.run('background', this.work).finally(() => {
        this.running = undefined;
        if (this.again()) this.request(afterMs);
      });
    }, afterMs);
    this.timer.unref();
  }

  /** Nothing runs after this; resolves once a run under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
