import { finished } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Holder } from './remote-results';

/** What the holder said of a page read ahead, before its body. */
export interface PageHead {
  holder: Holder;
  contentType: string | undefined;
  /** Its Content-Length: the holder always gives one. */
  length: number;
  /** The result's rows, as the holder counted them (ROWS_TOTAL_HEADER). */
  rowsTotal: number | undefined;
}

/**
 * A page read ahead from its holder, kept as its pieces arrive, for one client to take: the
 * client gets what has come so far at once and the rest as it comes, so a page asked for before
 * it has fully arrived is still streamed, not waited for whole.
 */
export class ArrivingPage {
  private readonly pieces: Buffer[] = [];
  private over = false;
  private failure?: Error;
  private wake?: () => void;
  /** Settles once the whole page has arrived, or its answer broke off. */
  readonly arrived: Promise<void>;

  constructor(
    readonly head: PageHead,
    private readonly answer: IncomingMessage,
  ) {
    answer.on('data', (piece: Buffer) => {
      this.pieces.push(piece);
      this.wake?.();
    });
    this.arrived = new Promise<void>((resolve) =>
      finished(answer, (error) => {
        this.over = true;
        if (error) this.failure = error;
        this.wake?.();
        resolve();
      }),
    );
  }

  /** The whole page came (once `arrived` has settled). */
  get complete(): boolean {
    return this.over && !this.failure;
  }

  /** Stops the holder's answer (a page nobody will take): what is still on its way is not read. */
  cancel(): void {
    this.answer.destroy();
  }

  /** The body's pieces in order, waiting for those still on their way; throws if the holder's answer broke off. */
  async *body(): AsyncGenerator<Buffer> {
    for (;;) {
      // What has come since the last write goes in one: fewer, larger writes to the client.
      if (this.pieces.length > 0) {
        const ready = this.pieces.splice(0);
        yield ready.length === 1 ? ready[0] : Buffer.concat(ready);
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.over) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
