import { storedEvent, streamId, type EventEnvelope, type NewEvent, type QuarryEvent, type StreamFamily } from '@quarry/contracts';
import { BoundedCache } from '@quarry/platform';
import type { PoolClient } from 'pg';
import { ConcurrencyError } from '../store/concurrency-error';
import type { AppendConditions, AppendSql, Notification, PgEventStore } from '../store/event-store';
import type { Sql } from '../db/sql';

export interface Decider<S, C> {
  family: StreamFamily;
  initial: S;
  decide(command: C, state: S): NewEvent[];
  evolve(state: S, event: QuarryEvent): S;
}

export interface Loaded<S> {
  state: S;
  version: number;
}

export interface ExecuteOptions<S> {
  /** Runs on every attempt before deciding (who may do this). */
  check?: (state: S) => void;
  /** Commits with the events: reservations, queue rows, blobs. Gets the state after them. */
  alsoInTransaction?: (tx: PoolClient, state: S) => Promise<unknown>;
}

export interface ExecuteInOptions<S, C = never> extends Pick<ExecuteOptions<S>, 'check'> {
  /** The state and version the caller holds; the stream is read only when it is not there any more. */
  from?: Loaded<S>;
  /** Notifications that commit with the events. */
  notify?: Notification[];
  /** The caller's own statements in the append's (a work row): see AppendConditions. Told the state all the events leave. */
  conditions?: (sql: AppendSql, state: S) => AppendConditions;
  /**
   * Told the state the decided events leave, just before they are sent to be appended: work that
   * only that state needs may start beside the commit. Nothing is appended yet, and the append may
   * still fail or be refused. It may answer, in time, with further commands: decided on that state
   * and appended with the rest, in the same statement.
   */
  beforeAppend?: (state: S) => void | Promise<readonly C[] | undefined>;
}

export interface Decided<S> extends Loaded<S> {
  events: NewEvent[];
}

const ATTEMPTS = 5;

/**
 * Aggregates read from their own event stream, so a write acknowledged by any node is seen by the
 * next request on every node. The node's cache keeps the folded state; a load asks the store only
 * for events past the cached version (one indexed query, usually empty).
 */
export class AggregateRepository<S, C> {
  private readonly cache: BoundedCache<string, Loaded<S>>;

  constructor(
    private readonly store: PgEventStore,
    private readonly decider: Decider<S, C>,
    cacheCapacity = 10_000,
  ) {
    this.cache = new BoundedCache(cacheCapacity);
  }

  async load(id: string): Promise<Loaded<S>> {
    const cached = this.cache.get(id);
    // Gathered with the other requests' reads, and asked again when a failover left its pooled
    // connection dead (as when a command's append failed for that).
    const newer = await this.store.readStreamTail(streamId(this.decider.family, id), (cached?.version ?? 0) + 1);
    const start = cached ?? { state: this.decider.initial, version: 0 };
    if (newer.length === 0) return start;
    const loaded = newer.reduce<Loaded<S>>((acc, raw) => ({ state: this.decider.evolve(acc.state, storedEvent(raw)), version: raw.streamVersion }), start);
    this.cache.set(id, loaded);
    return loaded;
  }

  /** Read, decide, append; on a concurrent write, read again and decide again. */
  async execute(id: string, command: C, options: ExecuteOptions<S> = {}): Promise<{ state: S; events: NewEvent[] }> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.load(id);
      options.check?.(loaded.state);
      const events = this.decider.decide(command, loaded.state);
      if (events.length === 0) return { state: loaded.state, events };
      try {
        const fold = (appended: EventEnvelope[]) =>
          appended.reduce((s, e) => this.decider.evolve(s, storedEvent(e)), loaded.state);
        const result = await this.store.append(
          streamId(this.decider.family, id),
          loaded.version === 0 ? 'no_stream' : loaded.version,
          events,
          options.alsoInTransaction && (async (tx, appended) => void (await options.alsoInTransaction!(tx, fold(appended)))),
        );
        const state = fold(result.events);
        this.cache.set(id, { state, version: result.nextExpectedVersion });
        return { state, events };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= ATTEMPTS) throw error;
        this.cache.delete(id);
      }
    }
  }

  /**
   * The same inside a caller's transaction, for work that must lock something first (a queue
   * row) and commit together; or, given the pool, as one statement committing on its own, with
   * that work in `conditions`. The cache is left alone until a later load, as the caller may
   * still roll back. Several commands are decided in turn and appended at once. `from` is the
   * state the caller already holds (a stream it just created, an attempt it runs): the stream is
   * read only if it moved on since.
   */
  async executeIn(tx: Sql, id: string, commands: C | readonly C[], options: ExecuteInOptions<S, C> = {}): Promise<Decided<S>> {
    this.cache.delete(id);
    const stream = streamId(this.decider.family, id);
    let loaded = options.from;
    for (let attempt = 1; ; attempt++) {
      if (!loaded) {
        const raw = await this.store.readStream(stream, 1, tx);
        loaded = { state: raw.reduce((s, e) => this.decider.evolve(s, storedEvent(e)), this.decider.initial), version: raw.length === 0 ? 0 : raw[raw.length - 1].streamVersion };
      }
      const { state, version } = loaded;
      options.check?.(state);
      const decided = this.decideAll(commands, state);
      if (decided.events.length === 0) return { state, version, events: decided.events };
      let { events, after } = decided;
      if (options.beforeAppend) {
        after ??= this.evolveDated(state, events, new Date().toISOString());
        const more = await options.beforeAppend(after);
        if (more && more.length > 0) {
          const extra = this.decideAll(more, after);
          events = [...events, ...extra.events];
          after = extra.after;
        }
      }
      const { conditions } = options;
      const leaves = (): S => (after ??= this.evolveDated(state, events, new Date().toISOString()));
      try {
        const result = await this.store.appendIn(tx, stream, version === 0 ? 'no_stream' : version, events, {
          notify: options.notify,
          conditions: conditions && ((sql) => conditions(sql, leaves())),
        });
        return { state: result.events.reduce((s, e) => this.decider.evolve(s, storedEvent(e)), state), version: result.nextExpectedVersion, events };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= ATTEMPTS) throw error;
        loaded = undefined;
      }
    }
  }

  /**
   * Each command decided on the state the events before it leave (dated now, as the append will);
   * for several commands, `after` is the state all their events leave (folded on the way anyway).
   */
  private decideAll(commands: C | readonly C[], state: S): { events: NewEvent[]; after?: S } {
    if (!Array.isArray(commands)) return { events: this.decider.decide(commands as C, state) };
    const events: NewEvent[] = [];
    const occurredAt = new Date().toISOString();
    for (const command of commands as readonly C[]) {
      const decided = this.decider.decide(command, state);
      events.push(...decided);
      state = this.evolveDated(state, decided, occurredAt);
    }
    return { events, after: state };
  }

  /** The state `events` leave, each dated `occurredAt` before it is stored. */
  private evolveDated(state: S, events: readonly NewEvent[], occurredAt: string): S {
    return events.reduce((s, e) => this.decider.evolve(s, { ...e, occurredAt } as QuarryEvent), state);
  }
}
