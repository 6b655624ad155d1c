/**
 * One round trip out at a time; whatever is asked while it is out waits and goes in the next
 * (group commit, gathered reads, gathered NOTIFYs: ADR 11, ADR 17). `send` gets everything that
 * waits and answers what it left for later (sent in the next round trip, before newer asks); it
 * settles its own items, failures included. `start` schedules the first round trip after a
 * quiet spell: at once by default.
 */
export class RoundTripGatherer<T> {
  private waiting: T[] = [];
  private sending = false;

  constructor(
    private readonly send: (waiting: T[]) => Promise<T[] | void>,
    private readonly start: (run: () => void) => void = (run) => run(),
  ) {}

  add(item: T): void {
    this.waiting.push(item);
    if (this.sending) return;
    this.sending = true;
    this.start(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        const later = await this.send(batch);
        if (later && later.length > 0) this.waiting = [...later, ...this.waiting];
      }
    } finally {
      this.sending = false;
    }
  }
}
