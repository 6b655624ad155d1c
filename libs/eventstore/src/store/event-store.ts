import { randomUUID } from 'node:crypto';
import { definitionOf, familyOf, topicFor, type EventEnvelope, type NewEvent } from '@quarry/contracts';
import type { Pool, PoolClient } from 'pg';
import { inTransaction, type Sql } from '../db/sql';
import { ConcurrencyError, WriterFenced, type ExpectedVersion } from './concurrency-error';
import { EVENT_COLUMNS, envelopeFromRow, type EventRow } from './rows';

export interface EventWriter {
  nodeId: string;
  nodeIncarnation: string;
}

export interface AppendResult {
  nextExpectedVersion: number;
  events: EventEnvelope[];
}

/** Wakes the outbox relay as soon as a transaction with new rows commits. */
export const OUTBOX_CHANNEL = 'quarry_outbox';

/**
 * The PostgreSQL event store. An append checks and moves the stream's version under its row
 * lock, writes the events and their outbox rows, all in one transaction: a concurrent append
 * with the same expected version waits for the first, then fails with ConcurrencyError.
 */
export class PgEventStore {
  constructor(
    private readonly pool: Pool,
    private readonly writer: EventWriter,
    private readonly topicPrefix: string,
    private readonly onAppended?: (events: EventEnvelope[]) => void,
    /** Told when an append is refused because this writer has ended: the node must stop. */
    private readonly onFenced?: (error: WriterFenced) => void,
  ) {}

  get writerIncarnation(): string {
    return this.writer.nodeIncarnation;
  }

  /**
   * Appends atomically. `alsoInTransaction` runs in the same transaction after the events are
   * written, for state that must commit or roll back with them (a reservation, a blob).
   */
  async append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
    alsoInTransaction?: (tx: PoolClient, appended: EventEnvelope[]) => Promise<void>,
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const result = await inTransaction(this.pool, async (tx) => {
      const appended = await this.appendIn(tx, streamId, expectedVersion, events);
      await alsoInTransaction?.(tx, appended.events);
      return appended;
    });
    this.onAppended?.(result.events);
    return result;
  }

  /** The same append inside a caller's transaction, for effects that must commit with it. */
  async appendIn(tx: PoolClient, streamId: string, expectedVersion: ExpectedVersion, events: NewEvent[]): Promise<AppendResult> {
    const family = familyOf(streamId);
    for (const event of events) {
      const definition = definitionOf(event.type);
      if (definition.family !== family) {
        throw new Error(`${event.type} belongs to ${definition.family} streams, not to ${streamId}`);
      }
      definition.payload.parse(event.payload);
    }
    const current = await this.claimVersion(tx, streamId, expectedVersion, events.length);
    const occurredAt = new Date();
    const envelopes: EventEnvelope[] = events.map((event, i) => ({
      eventId: randomUUID(),
      streamId,
      streamVersion: current + i + 1,
      type: event.type,
      schemaVersion: definitionOf(event.type).schemaVersion,
      payload: event.payload,
      nodeId: this.writer.nodeId,
      nodeIncarnation: this.writer.nodeIncarnation,
      occurredAt: occurredAt.toISOString(),
    }));
    // Fenced by incarnation: the writer's row is share-locked until commit, so ending it (which
    // locks it for update) waits for appends in flight, and no append lands after the end.
    const inserted = await tx.query<{ global_position: string }>(
      `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, payload, node_id, node_incarnation, occurred_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::jsonb[], $7::text[], $8::text[], $9::timestamptz[])
       WHERE (SELECT ended_at FROM event_writers WHERE incarnation = $10::uuid FOR KEY SHARE) IS NULL
       RETURNING global_position`,
      [
        envelopes.map((e) => e.eventId),
        envelopes.map((e) => e.streamId),
        envelopes.map((e) => e.streamVersion),
        envelopes.map((e) => e.type),
        envelopes.map((e) => e.schemaVersion),
        envelopes.map((e) => JSON.stringify(e.payload)),
        envelopes.map((e) => e.nodeId),
        envelopes.map((e) => e.nodeIncarnation),
        envelopes.map(() => occurredAt),
        this.writer.nodeIncarnation,
      ],
    );
    if (inserted.rows.length === 0) {
      const fenced = new WriterFenced(this.writer.nodeIncarnation);
      this.onFenced?.(fenced);
      throw fenced;
    }
    inserted.rows.forEach((row, i) => (envelopes[i].globalPosition = Number(row.global_position)));
    const topic = topicFor(family, this.topicPrefix);
    await tx.query(
      `INSERT INTO outbox (topic, message_key, envelope) SELECT $1, $2, unnest($3::jsonb[])`,
      [topic, streamId, envelopes.map((e) => JSON.stringify(e))],
    );
    await tx.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]);
    return { nextExpectedVersion: current + events.length, events: envelopes };
  }

  /** Moves the stream's version from the expected one; returns the version before the append. */
  private async claimVersion(tx: PoolClient, streamId: string, expected: ExpectedVersion, count: number): Promise<number> {
    if (expected === 'no_stream' || expected === 0) {
      const created = await tx.query(
        `INSERT INTO streams (stream_id, version) VALUES ($1, $2) ON CONFLICT (stream_id) DO NOTHING`,
        [streamId, count],
      );
      if (created.rowCount === 1) return 0;
      throw new ConcurrencyError(streamId, expected, await this.currentVersion(tx, streamId));
    }
    if (expected === 'any') {
      const row = await tx.query<{ version: number }>(
        `INSERT INTO streams (stream_id, version) VALUES ($1, $2)
         ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + $2, updated_at = now()
         RETURNING version`,
        [streamId, count],
      );
      return row.rows[0].version - count;
    }
    const moved = await tx.query(
      `UPDATE streams SET version = version + $3, updated_at = now() WHERE stream_id = $1 AND version = $2`,
      [streamId, expected, count],
    );
    if (moved.rowCount === 1) return expected;
    throw new ConcurrencyError(streamId, expected, await this.currentVersion(tx, streamId));
  }

  /** Records this incarnation as a writer (in its first transaction, with NodeJoined). */
  async startWriter(tx: Sql, nodeId: string): Promise<void> {
    await tx.query('INSERT INTO event_writers (incarnation, node_id) VALUES ($1, $2) ON CONFLICT (incarnation) DO NOTHING', [this.writer.nodeIncarnation, nodeId]);
  }

  /**
   * Takes a live writer's row for update: waits for its appends in flight, and holds back any new
   * one until this transaction ends. For a writer ending itself, whose goodbye must be its last event.
   */
  async lockWriter(tx: Sql, incarnation: string): Promise<boolean> {
    const { rows } = await tx.query('SELECT 1 FROM event_writers WHERE incarnation = $1 AND ended_at IS NULL FOR UPDATE', [incarnation]);
    return rows.length === 1;
  }

  /**
   * Ends a writer for good, once: waits for its appends in flight, then refuses the rest. Says
   * whether this call ended it (false: it had ended already, or was never a writer).
   */
  async endWriter(tx: Sql, incarnation: string, reason: string): Promise<boolean> {
    const { rows } = await tx.query<{ incarnation: string }>(
      `UPDATE event_writers SET ended_at = now(), ended_reason = $2
       WHERE incarnation = (SELECT incarnation FROM event_writers WHERE incarnation = $1 AND ended_at IS NULL FOR UPDATE)
       RETURNING incarnation`,
      [incarnation, reason],
    );
    return rows.length === 1;
  }

  async currentVersion(sql: Sql, streamId: string): Promise<number> {
    const row = await sql.query<{ version: number }>('SELECT version FROM streams WHERE stream_id = $1', [streamId]);
    return row.rows[0]?.version ?? 0;
  }

  /** The stream's events from `fromVersion` on, in order. */
  async readStream(streamId: string, fromVersion = 1, sql: Sql = this.pool): Promise<EventEnvelope[]> {
    // A named statement: parsed and planned once per connection, as this runs on every request.
    const rows = await sql.query<EventRow>({
      name: 'quarry-read-stream',
      text: `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`,
      values: [streamId, fromVersion],
    });
    return rows.rows.map(envelopeFromRow);
  }

  /** Events in global order after `afterPosition`, for rebuilds and catch-up. */
  async readAll(afterPosition: number, limit: number, sql: Sql = this.pool): Promise<EventEnvelope[]> {
    const rows = await sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
      [afterPosition, limit],
    );
    return rows.rows.map(envelopeFromRow);
  }
}
