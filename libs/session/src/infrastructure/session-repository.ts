import { parseEvent, streamId } from '@quarry/contracts';
import { ConcurrencyError, PgEventStore } from '@quarry/eventstore';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { decide, evolve, type SessionCommand } from '../domain/session.decider';
import { INITIAL_SESSION, type SessionState } from '../domain/session.state';
import { BoundedCache } from './bounded-cache';

export interface LoadedSession {
  state: SessionState;
  version: number;
}

const CACHE_CAPACITY = 10_000;
const ATTEMPTS = 3;

/**
 * Sessions read from their event stream, so a write acknowledged by any node is seen by the next
 * request on every node. The node's cache keeps the folded state; each load asks the store only
 * for events past the cached version (one indexed query, usually empty).
 */
@Injectable()
export class SessionRepository {
  private readonly cache = new BoundedCache<string, LoadedSession>(CACHE_CAPACITY);

  constructor(private readonly store: PgEventStore) {}

  async load(publicId: string): Promise<LoadedSession> {
    const cached = this.cache.get(publicId);
    const newer = await this.store.readStream(streamId('session', publicId), (cached?.version ?? 0) + 1);
    if (newer.length === 0) return cached ?? { state: INITIAL_SESSION, version: 0 };
    const loaded = newer.reduce<LoadedSession>(
      (acc, raw) => ({ state: evolve(acc.state, parseEvent(raw)), version: raw.streamVersion }),
      cached ?? { state: INITIAL_SESSION, version: 0 },
    );
    this.cache.set(publicId, loaded);
    return loaded;
  }

  /**
   * Read, decide, append — retried on a concurrent write. `alsoInTransaction` commits with the
   * events (reservations, blobs); `check` runs on every attempt before deciding (secret, owner).
   */
  async execute(
    publicId: string,
    command: SessionCommand,
    options: {
      check?: (state: SessionState) => void;
      alsoInTransaction?: (tx: PoolClient, state: SessionState) => Promise<void>;
    } = {},
  ): Promise<SessionState> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.load(publicId);
      options.check?.(loaded.state);
      const events = decide(command, loaded.state);
      if (events.length === 0) return loaded.state;
      try {
        const result = await this.store.append(
          streamId('session', publicId),
          loaded.version === 0 ? 'no_stream' : loaded.version,
          events,
          options.alsoInTransaction && ((tx, appended) => options.alsoInTransaction!(tx, appended.reduce((s, e) => evolve(s, parseEvent(e)), loaded.state))),
        );
        const state = result.events.reduce((s, e) => evolve(s, parseEvent(e)), loaded.state);
        this.cache.set(publicId, { state, version: result.nextExpectedVersion });
        return state;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= ATTEMPTS) throw error;
        this.cache.delete(publicId);
      }
    }
  }

  /** Drops a cached session that an event from Kafka shows to be behind. */
  forgetIfOlder(publicId: string, version: number): void {
    const cached = this.cache.get(publicId);
    if (cached && cached.version < version) this.cache.delete(publicId);
  }
}
