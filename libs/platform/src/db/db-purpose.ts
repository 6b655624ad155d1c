import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a statement in Quarry's own database was issued for, so the query path's cost can be told
 * from the background's: `lens` (a Lens API request and the work it starts in this process, such
 * as a query launched where it was submitted), `http` (other routes: /metrics, /ready, /cluster,
 * /internal), `relay` (the outbox relay), `projection` (Kafka-fed projections) and `background`
 * (timers: heartbeats, the failure detector, sweeps, the executor's poll, ...).
 */
export type DbPurpose = 'lens' | 'http' | 'relay' | 'projection' | 'background';

/** Every statement counts under this one while attribution is off. */
export const UNATTRIBUTED = 'unattributed';

/**
 * Attribution follows the async context (AsyncLocalStorage), which puts a hook on every promise
 * of the process: worth a few percent of CPU. So it is off unless asked for
 * (QUARRY_DB_COUNT_BY_PURPOSE, for tests and diagnosis); the totals are counted either way.
 */
export class DbPurposes {
  private readonly storage?: AsyncLocalStorage<DbPurpose>;

  constructor(enabled: boolean) {
    if (enabled) this.storage = new AsyncLocalStorage();
  }

  get enabled(): boolean {
    return this.storage !== undefined;
  }

  /** Runs `work` (and whatever it starts) under `purpose`; just runs it while attribution is off. */
  run<T>(purpose: DbPurpose, work: () => T): T {
    return this.storage ? this.storage.run(purpose, work) : work();
  }

  current(): string {
    return this.storage ? (this.storage.getStore() ?? 'background') : UNATTRIBUTED;
  }
}
