import { randomUUID } from 'node:crypto';
import { definitionOf, familyOf, topicFor, type EventEnvelope, type NewEvent, type StreamFamily } from '@quarry/contracts';
import type { Pool, PoolClient } from 'pg';
import { inTransaction, type Sql } from '../db/sql';
import { ConcurrencyError, WriterFenced, type ExpectedVersion } from './concurrency-error';
import { EVENT_COLUMNS, envelopeFromRow, type EventRow } from './rows';
import type { AppendingEvent, InlineProjection } from '../projections/inline-projection';

export interface EventWriter {
  nodeId: string;
  nodeIncarnation: string;
}

/** A PostgreSQL NOTIFY sent when the append commits. */
export interface Notification {
  channel: string;
  payload: string;
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
  private inline: readonly InlineProjection[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly writer: EventWriter,
    private readonly topicPrefix: string,
    private readonly onAppended?: (events: EventEnvelope[]) => void,
    /** Told when an append is refused because this writer has ended: the node must stop. */
    private readonly onFenced?: (error: WriterFenced) => void,
  ) {}

  /** The read models every append keeps in its own statement (ADR 12); set once, before any append. */
  keepInline(projections: readonly InlineProjection[]): this {
    this.inline = projections;
    return this;
  }

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

  /**
   * The same append inside a caller's transaction, for effects that must commit with it.
   * `notify` adds notifications that commit with the events (the outbox relay is always told).
   */
  async appendIn(tx: PoolClient, streamId: string, expectedVersion: ExpectedVersion, events: NewEvent[], notify: Notification[] = []): Promise<AppendResult> {
    const family = familyOf(streamId);
    for (const event of events) {
      const definition = definitionOf(event.type);
      if (definition.family !== family) {
        throw new Error(`${event.type} belongs to ${definition.family} streams, not to ${streamId}`);
      }
      definition.payload.parse(event.payload);
    }
    const occurredAt = new Date();
    const { nodeId, nodeIncarnation } = this.writer;
    const drafts = events.map((event) => ({
      eventId: randomUUID(),
      streamId,
      type: event.type,
      schemaVersion: definitionOf(event.type).schemaVersion,
      payload: event.payload,
      nodeId,
      nodeIncarnation,
      occurredAt: occurredAt.toISOString(),
    }));
    const values: unknown[] = [
      streamId,
      events.length,
      typeof expectedVersion === 'number' && expectedVersion !== 0 ? expectedVersion : null,
      drafts.map((e) => e.eventId),
      drafts.map((e) => e.type),
      drafts.map((e) => e.schemaVersion),
      drafts.map((e) => JSON.stringify(e.payload)),
      nodeId,
      nodeIncarnation,
      occurredAt,
      topicFor(family, this.topicPrefix),
      drafts.map((e) => JSON.stringify(e)),
      [OUTBOX_CHANNEL, ...notify.map((n) => n.channel)],
      ['', ...notify.map((n) => n.payload)],
    ];
    const { rows } = await tx.query<AppendedRow>(appendStatement(expectedVersion, this.inlineWrites(family, drafts as AppendingEvent[], values)), values);
    if (rows.length === 0) throw new ConcurrencyError(streamId, expectedVersion, await this.currentVersion(tx, streamId));
    if (rows[0].global_position === null) {
      const fenced = new WriterFenced(nodeIncarnation);
      this.onFenced?.(fenced);
      throw fenced;
    }
    const before = rows[0].before;
    const envelopes: EventEnvelope[] = drafts.map((draft, i) => ({ ...draft, streamVersion: before + i + 1, globalPosition: Number(rows[i].global_position) }));
    return { nextExpectedVersion: before + events.length, events: envelopes };
  }

  /** The inline projections' writes for these events, their values added to the append's. */
  private inlineWrites(family: StreamFamily, events: AppendingEvent[], values: unknown[]): string[] {
    const sql = { bind: (value: unknown) => `$${values.push(value)}`, versionOf: (index: number) => `((SELECT min(stream_version) FROM e) + ${index})` };
    return this.inline.flatMap((p) => (p.families.includes(family) ? [p.write(events, sql)] : [])).filter((w): w is string => w !== undefined);
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

interface AppendedRow {
  before: number;
  global_position: string | null;
}

/**
 * Moves the stream's version from the expected one ($3; none for `no_stream`; whatever it is for
 * `any`) under its row lock: a concurrent append with the same expected version waits for the
 * first, then finds no row to move. Each returns the version before the append.
 */
const CLAIM_VERSION = {
  noStream: `INSERT INTO streams (stream_id, version) SELECT $1::text, $2::int WHERE $3::int IS NULL ON CONFLICT (stream_id) DO NOTHING RETURNING 0 AS before`,
  any: `INSERT INTO streams (stream_id, version) SELECT $1::text, $2::int WHERE $3::int IS NULL
        ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + $2::int, updated_at = now() RETURNING version - $2::int AS before`,
  version: `UPDATE streams SET version = version + $2::int, updated_at = now() WHERE stream_id = $1::text AND version = $3::int RETURNING version - $2::int AS before`,
} as const;

/**
 * An append in one round trip: the version claimed, the events written (fenced by incarnation:
 * the writer's row is share-locked until commit, so ending it, which locks it for update, waits
 * for appends in flight, and no append lands after the end), their outbox rows in stream order,
 * the notifications, and the inline projections' writes (ADR 12). No row back: the stream was not at the expected version; a row without
 * a position: the writer has ended.
 */
function appendStatement(expected: ExpectedVersion, inlineWrites: string[]): string {
  const claim = expected === 'no_stream' || expected === 0 ? CLAIM_VERSION.noStream : expected === 'any' ? CLAIM_VERSION.any : CLAIM_VERSION.version;
  return `WITH v AS (${claim}),
  e AS (
    INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, payload, node_id, node_incarnation, occurred_at)
    SELECT x.event_id, $1::text, v.before + x.n, x.type, x.schema_version, x.payload, $8::text, $9::text, $10::timestamptz
    FROM v, unnest($4::uuid[], $5::text[], $6::int[], $7::jsonb[]) WITH ORDINALITY AS x(event_id, type, schema_version, payload, n)
    WHERE (SELECT ended_at FROM event_writers WHERE incarnation = $9::text::uuid FOR KEY SHARE) IS NULL
    RETURNING event_id, stream_version, global_position
  ),
  o AS (
    INSERT INTO outbox (topic, message_key, envelope)
    SELECT $11::text, $1::text, x.envelope || jsonb_build_object('streamVersion', e.stream_version, 'globalPosition', e.global_position)
    FROM e JOIN unnest($4::uuid[], $12::jsonb[]) AS x(event_id, envelope) ON x.event_id = e.event_id
    ORDER BY e.stream_version
  ),
  n AS (SELECT pg_notify(c, p) FROM unnest($13::text[], $14::text[]) AS t(c, p))${inlineWrites.map((w, i) => `,\n  p${i} AS (${w})`).join('')}
  SELECT v.before, e.global_position, (SELECT count(*) FROM n) AS notified
  FROM v LEFT JOIN e ON true ORDER BY e.stream_version`;
}
