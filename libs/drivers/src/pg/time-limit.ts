import { DriverQueryError } from '../driver';

/**
 * The driver's own clock on one transaction. PostgreSQL's statement_timeout limits each FETCH of
 * a cursor, not the query, and a query can lift it for the FETCHes after its own with
 * set_config('statement_timeout', '0', true); this limit holds for the whole transaction.
 */
export class TimeLimit {
  private hasExpired = false;
  /** The cancel sent at expiry: the transaction may not end before it did, or it would hit the next one. */
  private cancel?: Promise<void>;
  private readonly timer?: NodeJS.Timeout;

  constructor(
    private readonly driver: string,
    private readonly ms: number,
    onExpiry: () => Promise<void>,
  ) {
    if (ms <= 0) return;
    this.timer = setTimeout(() => {
      this.hasExpired = true;
      this.cancel = onExpiry().catch(() => undefined);
    }, ms);
    this.timer.unref();
  }

  get expired(): boolean {
    return this.hasExpired;
  }

  /** Between statements: a cancel that landed while none ran is lost, so the next one is not started. */
  check(): void {
    if (this.hasExpired) throw this.error();
  }

  error(): DriverQueryError {
    return new DriverQueryError(this.driver, `canceling statement due to statement timeout (${statementTimeoutSetting(this.ms)})`);
  }

  /** Stops the clock; resolves once a cancel it sent is done. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.cancel;
  }
}

export const statementTimeoutSetting = (ms: number) => `QUARRY_PG_STATEMENT_TIMEOUT_MS=${ms}`;
