import { randomUUID } from 'node:crypto';
import { definitionOf, familyOf, isCheckedPayload, topicFor, type EventEnvelope, type NewEvent, type StreamFamily } from '@quarry/contracts';
import type { Pool, PoolClient } from 'pg';
import { inTransaction, readAgainIfConnectionLost, type Sql } from '../db/sql';
import { namedStatement } from '../db/named-statements';
import { PostCommitNotices } from '../db/post-commit-notices';
import { AppendBatcher, type BatchOutcome } from './append-batch';
import { AppendRefused, ConcurrencyError, WriterFenced, type ExpectedVersion } from './concurrency-error';
import { EVENT_COLUMNS, envelopeFromRow, type EventRow } from './rows';
import { READ_STREAM, StreamTailReads } from './stream-tail-reads';
import type { AppendingEvent, InlineProjection, InlineSql } from '../projections/inline-projection';

export interface EventWriter {
  nodeId: string;
  nodeIncarnation: string;
}

/** A PostgreSQL NOTIFY sent when the append commits. */
export interface Notification {
  channel: string;
  payload: string;
  /**
   * Sent only while someone holds this advisory lock shared (see ListenerInterest): listeners that
   * want the notice say so by holding it. An append committing on its own tries the lock
   * exclusively in its statement: taken (nobody listens), it holds it until its commit, so a
   * listener arriving meanwhile waits for the commit and sees its effect when it looks; refused,
   * the notice goes. Inside a caller's transaction the notice always goes.
   */
  onlyIfHeard?: ListenerInterest;
}

/** An advisory lock (PostgreSQL's two-key form: a class, and `hashtext(key)`) its listeners hold shared. */
export interface ListenerInterest {
  classId: number;
  key: string;
}

export interface AppendResult {
  nextExpectedVersion: number;
  events: EventEnvelope[];
}

/** How a caller's own statements are written into the append's: values bound, the outcome as SQL. */
export interface AppendSql extends InlineSql {
  /** A boolean expression: the append wrote its events. */
  readonly written: string;
}

/**
 * A caller's statements that ride the append's one statement (ADR 11), so that state that must
 * commit with the events (a work row) costs no round trip and no transaction of its own.
 */
export interface AppendConditions {
  /**
   * A SELECT whose rows allow the append, run before anything else is locked (lock here, FOR
   * UPDATE, what every writer of the stream locks first). No row: nothing is written (AppendRefused).
   */
  onlyIf?: string;
  /** Data-modifying statements that must do nothing unless `written` holds. */
  writes?: string[];
}

export interface AppendOptions {
  /** Notifications sent when the events commit (the outbox relay is always told). */
  notify?: Notification[];
  conditions?: (sql: AppendSql) => AppendConditions;
}

/** Wakes the outbox relay as soon as a transaction with new rows commits. */
export const OUTBOX_CHANNEL = 'quarry_outbox';

/**
 * The advisory-lock key the outbox relay holds, exclusively, while it sleeps on OUTBOX_CHANNEL.
 * An append that commits on its own tries it shared in its statement: taken, the relay is awake
 * and, holding it until its commit, keeps the relay from going to sleep before its rows can be
 * seen, so it sends no NOTIFY; refused (the relay sleeps or is about to), it NOTIFYs after its
 * commit. Under load the relay stays awake and the appends send none (ADR 11, "Eighth pass").
 */
export const RELAY_ASLEEP_LOCK = 7_041_998_021;

/**
 * The PostgreSQL event store. An append checks and moves the stream's version under its row
 * lock, writes the events and their outbox rows, all in one transaction: a concurrent append
 * with the same expected version waits for the first, then fails with ConcurrencyError.
 */
export class PgEventStore {
  private inline: readonly InlineProjection[] = [];
  private readonly notices: PostCommitNotices;
  private readonly batcher: AppendBatcher;
  private readonly tails: StreamTailReads;

  constructor(
    private readonly pool: Pool,
    private readonly writer: EventWriter,
    private readonly topicPrefix: string,
    private readonly onAppended?: (events: EventEnvelope[]) => void,
    /** Told when an append is refused because this writer has ended: the node must stop. */
    private readonly onFenced?: (error: WriterFenced) => void,
  ) {
    this.notices = new PostCommitNotices(pool);
    this.batcher = new AppendBatcher(
      pool,
      writer.nodeIncarnation,
      // Alone in its group commit, no other append of this node waits to share its flush: its NOTIFY rides the statement.
      (append, expected) => this.appendDrafted(this.pool, append, expected === 0 ? 'no_stream' : expected, {}, 'in-statement'),
      (append, expected, outcome) => this.settled(append, expected, outcome),
    );
    this.tails = new StreamTailReads(pool);
  }

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
   * written, for state that must commit or roll back with them (a reservation, a blob); without
   * it the append is one statement that commits on its own.
   */
  async append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
    alsoInTransaction?: (tx: PoolClient, appended: EventEnvelope[]) => Promise<void>,
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    // Alone, the append is one statement committing on its own: one round trip, still one commit.
    const result = alsoInTransaction
      ? await inTransaction(this.pool, async (tx) => {
          const appended = await this.appendIn(tx, streamId, expectedVersion, events);
          await alsoInTransaction(tx, appended.events);
          return appended;
        })
      : await this.appendAlone(streamId, expectedVersion, events);
    this.onAppended?.(result.events);
    return result;
  }

  /**
   * The same append inside a caller's transaction, for effects that must commit with it; or, given
   * the pool, as one statement that commits on its own: nothing is written unless the writer is
   * alive, the version is claimed and the conditions hold, so it needs no transaction around it.
   */
  appendIn(sql: Sql, streamId: string, expectedVersion: ExpectedVersion, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    return this.appendDrafted(sql, this.draft(streamId, events), expectedVersion, options);
  }

  /**
   * appendIn for events already drafted. `notices`: when its NOTIFYs go; by default after the commit
   * when the append commits on its own (see PostCommitNotices), else in its statement.
   */
  private async appendDrafted(
    sql: Sql,
    drafted: DraftedAppend,
    expectedVersion: ExpectedVersion,
    options: AppendOptions,
    notices: 'in-statement' | 'after-commit' = isPool(sql) ? 'after-commit' : 'in-statement',
  ): Promise<AppendResult> {
    const { streamId, family, occurredAt, drafts, payloads, envelopes } = drafted;
    const { nodeId, nodeIncarnation } = this.writer;
    const notify: Notification[] = [{ channel: OUTBOX_CHANNEL, payload: '' }, ...(options.notify ?? [])];
    // Committing on its own, the append leaves its NOTIFYs to a statement of their own (see
    // PostCommitNotices); inside a caller's transaction they ride the append, as they must commit with it.
    const alone = isPool(sql);
    const inStatement = notices === 'in-statement' ? notify : [];
    const values: unknown[] = [
      streamId,
      drafts.length,
      typeof expectedVersion === 'number' && expectedVersion !== 0 ? expectedVersion : null,
      drafts.map((e) => e.eventId),
      drafts.map((e) => e.type),
      drafts.map((e) => e.schemaVersion),
      payloads,
      nodeId,
      nodeIncarnation,
      occurredAt,
      topicFor(family, this.topicPrefix),
      envelopes,
      inStatement.map((n) => n.channel),
      inStatement.map((n) => n.payload),
    ];
    const bound: AppendSql = { bind: (value: unknown) => `$${values.push(value)}`, versionOf: (index: number) => `((SELECT min(stream_version) FROM e) + ${index})`, written: 'EXISTS (SELECT 1 FROM e)' };
    const conditions = options.conditions?.(bound) ?? {};
    const inline = this.inline.flatMap((p) => (p.families.includes(family) ? [p.write(drafts as AppendingEvent[], bound)] : [])).filter((w): w is string => w !== undefined);
    // After the commit, a notice only some listen for is asked about in the statement (its lock tried).
    const heardAsked = notices === 'after-commit' ? notify.flatMap((n) => (n.onlyIfHeard ? [`NOT pg_try_advisory_xact_lock(${bound.bind(n.onlyIfHeard.classId)}::int, hashtext(${bound.bind(n.onlyIfHeard.key)}::text))`] : [])) : [];
    const statement = namedStatement(appendStatement(expectedVersion, conditions.onlyIf, [...inline, ...(conditions.writes ?? [])], notices === 'after-commit', heardAsked));
    // Alone on the pool, a lost connection is asked again: the same event ids (unique) keep a repeat from landing twice.
    const send = () => sql.query<AppendedRow>({ ...statement, values });
    const { rows } = alone ? await readAgainIfConnectionLost(send) : await send();
    const [first] = rows;
    if (!first.allowed) throw new AppendRefused(streamId);
    if (first.fenced) {
      const fenced = new WriterFenced(nodeIncarnation);
      this.onFenced?.(fenced);
      throw fenced;
    }
    if (first.before === null) throw new ConcurrencyError(streamId, expectedVersion, await this.currentVersion(sql, streamId));
    // The relay is awake and cannot sleep before this commit is visible to it: it needs no wake-up.
    if (notices === 'after-commit') this.notices.send(noticesToSend(notify, first));
    const before = first.before;
    const appended: EventEnvelope[] = drafts.map((draft, i) => ({ ...draft, streamVersion: before + i + 1, globalPosition: Number(rows[i].global_position) }));
    return { nextExpectedVersion: before + drafts.length, events: appended };
  }

  /**
   * An append committing on its own. To a stream of its version (or a new one) and with no read
   * model kept in its statement, it joins the next group commit (AppendBatcher); else it goes alone.
   */
  private appendAlone(streamId: string, expectedVersion: ExpectedVersion, events: NewEvent[]): Promise<AppendResult> {
    const drafted = this.draft(streamId, events);
    const batchable = expectedVersion !== 'any' && !this.inline.some((p) => p.families.includes(drafted.family));
    if (!batchable) return this.appendDrafted(this.pool, drafted, expectedVersion, {});
    return this.batcher.append(drafted, expectedVersion === 'no_stream' ? 0 : expectedVersion);
  }

  /** What a group commit said of one append, as a single append would say it. */
  private async settled(append: DraftedAppend, expected: number, outcome: BatchOutcome): Promise<AppendResult> {
    if (outcome.kind === 'fenced') {
      const fenced = new WriterFenced(this.writer.nodeIncarnation);
      this.onFenced?.(fenced);
      throw fenced;
    }
    if (outcome.kind === 'version-moved') throw new ConcurrencyError(append.streamId, expected === 0 ? 'no_stream' : expected, await this.currentVersion(this.pool, append.streamId));
    this.notices.send([{ channel: OUTBOX_CHANNEL, payload: '' }]);
    return outcome.result;
  }

  /** The events as they will be stored: checked, given ids, their JSON written once. */
  draft(streamId: string, events: NewEvent[]): DraftedAppend {
    const family = familyOf(streamId);
    for (const event of events) {
      const definition = definitionOf(event.type);
      if (definition.family !== family) {
        throw new Error(`${event.type} belongs to ${definition.family} streams, not to ${streamId}`);
      }
      // Built by its definition's create(), the payload was checked there; anything else is checked now.
      if (!isCheckedPayload(event.payload)) definition.payload.parse(event.payload);
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
    // Each payload is written once as JSON and spliced into its envelope (jsonb: the key order is the server's).
    const payloads = drafts.map((e) => JSON.stringify(e.payload));
    const envelopes = drafts.map(({ payload: _payload, ...rest }, i) => `{"payload":${payloads[i]},${JSON.stringify(rest).slice(1)}`);
    return { streamId, family, topic: topicFor(family, this.topicPrefix), occurredAt, drafts, payloads, envelopes };
  }

  /** Records this incarnation as a writer (in its first transaction, with NodeJoined). */
  async startWriter(tx: Sql, nodeId: string): Promise<void> {
    await tx.query('INSERT INTO event_writers (incarnation, node_id) VALUES ($1, $2) ON CONFLICT (incarnation) DO NOTHING', [this.writer.nodeIncarnation, nodeId]);
  }

  /**
   * Takes a live writer's fence key and row: waits for its appends in flight, and holds back any new
   * one until this transaction ends. For a writer ending itself, whose goodbye must be its last event.
   */
  async lockWriter(tx: Sql, incarnation: string): Promise<boolean> {
    await this.takeWriterKey(tx, incarnation);
    const { rows } = await tx.query('SELECT 1 FROM event_writers WHERE incarnation = $1 AND ended_at IS NULL FOR UPDATE', [incarnation]);
    return rows.length === 1;
  }

  /**
   * Ends a writer for good, once: waits for its appends in flight, then refuses the rest. Says
   * whether this call ended it (false: it had ended already, or was never a writer).
   */
  async endWriter(tx: Sql, incarnation: string, reason: string): Promise<boolean> {
    await this.takeWriterKey(tx, incarnation);
    const { rows } = await tx.query<{ incarnation: string }>(
      `UPDATE event_writers SET ended_at = now(), ended_reason = $2
       WHERE incarnation = (SELECT incarnation FROM event_writers WHERE incarnation = $1 AND ended_at IS NULL FOR UPDATE)
       RETURNING incarnation`,
      [incarnation, reason],
    );
    return rows.length === 1;
  }

  /**
   * The writer's fence key, exclusively until the transaction ends: waits for the appends in flight
   * (each holds it shared until it commits) and holds back new ones, which then see the writer's
   * row as this transaction leaves it (see quarry_writer_alive).
   */
  private async takeWriterKey(tx: Sql, incarnation: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock(quarry_writer_key($1::uuid))', [incarnation]);
  }

  async currentVersion(sql: Sql, streamId: string): Promise<number> {
    const row = await sql.query<{ version: number }>('SELECT version FROM streams WHERE stream_id = $1', [streamId]);
    return row.rows[0]?.version ?? 0;
  }

  /** The stream's events from `fromVersion` on, in order. */
  async readStream(streamId: string, fromVersion = 1, sql: Sql = this.pool): Promise<EventEnvelope[]> {
    const rows = await sql.query<EventRow>({ ...READ_STREAM, values: [streamId, fromVersion] });
    return rows.rows.map(envelopeFromRow);
  }

  /**
   * The stream's events from `fromVersion` on, read on the pool by a statement sent after this
   * call, which may serve other streams' reads too (StreamTailReads): what every request asks.
   */
  readStreamTail(streamId: string, fromVersion: number): Promise<EventEnvelope[]> {
    return this.tails.read(streamId, fromVersion);
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

/** An append's events ready for a statement: ids given, JSON written. */
export interface DraftedAppend {
  streamId: string;
  family: StreamFamily;
  topic: string;
  occurredAt: Date;
  drafts: Omit<EventEnvelope, 'streamVersion' | 'globalPosition'>[];
  payloads: string[];
  envelopes: string[];
}

interface AppendedRow {
  /** The caller's condition held (or there was none). */
  allowed: boolean;
  /** The writer has ended: nothing was written. */
  fenced: boolean;
  /** The version before the append; null when the stream was not at the expected one. */
  before: number | null;
  global_position: string | null;
  /** Asked only of an append whose NOTIFYs go after its commit: the relay is awake (RELAY_ASLEEP_LOCK). */
  relay_awake?: boolean;
  /** Likewise, for each notice sent only if heard (Notification.onlyIfHeard), in order: someone listens. */
  heard?: boolean[];
}

/**
 * The notices an append that committed on its own sends: the relay's only while it sleeps, a
 * notice only some listen for only while someone does (`heard` answers those in order).
 */
function noticesToSend(notify: Notification[], row: AppendedRow): Notification[] {
  let asked = 0;
  return notify.filter((n) => {
    if (n.channel === OUTBOX_CHANNEL) return !row.relay_awake;
    return n.onlyIfHeard ? row.heard?.[asked++] === true : true;
  });
}

function isPool(sql: Sql): boolean {
  // A pooled client has release(); the pool has connect() and no release().
  return typeof (sql as { release?: unknown }).release !== 'function' && typeof (sql as { connect?: unknown }).connect === 'function';
}

/** The caller's condition held and the writer ($9), share-locked by `w`, has not ended. */
const MAY_WRITE = `EXISTS (SELECT 1 FROM cond) AND (SELECT alive FROM w)`;

/**
 * Moves the stream's version from the expected one ($3; none for `no_stream`; whatever it is for
 * `any`) under its row lock, only when it may write: a concurrent append with the same expected
 * version waits for the first, then finds no row to move. Each returns the version before.
 */
const CLAIM_VERSION = {
  noStream: `INSERT INTO streams (stream_id, version) SELECT $1::text, $2::int WHERE $3::int IS NULL AND ${MAY_WRITE}
        ON CONFLICT (stream_id) DO NOTHING RETURNING 0 AS before`,
  any: `INSERT INTO streams (stream_id, version) SELECT $1::text, $2::int WHERE $3::int IS NULL AND ${MAY_WRITE}
        ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + $2::int, updated_at = now() RETURNING version - $2::int AS before`,
  version: `UPDATE streams SET version = version + $2::int, updated_at = now()
        WHERE stream_id = $1::text AND version = $3::int AND ${MAY_WRITE} RETURNING version - $2::int AS before`,
} as const;

/**
 * An append in one statement, which may commit on its own (ADR 11): nothing is written unless the
 * caller's condition `cond` holds (run first: it locks what every writer locks first), the writer is
 * alive and the version is claimed. `w` is the fence: a shared advisory lock on the writer's key
 * until commit, then a fresh look at its row (quarry_writer_alive, migration 1764000000003):
 * ending it, which takes the key exclusively, waits for appends in flight, and an append behind
 * an end sees it ended. The events, their outbox rows in stream order, the inline projections' writes
 * (ADR 12) and the caller's writes follow only from `v`'s row; the notifications go out only when
 * events were written. The first row back says which case it was: refused by the condition;
 * fenced; no `before` (the stream was not at the expected version); or appended, a row per event.
 */
function appendStatement(expected: ExpectedVersion, onlyIf: string | undefined, writes: string[], askRelayAwake: boolean, heardAsked: string[]): string {
  const claim = expected === 'no_stream' || expected === 0 ? CLAIM_VERSION.noStream : expected === 'any' ? CLAIM_VERSION.any : CLAIM_VERSION.version;
  return `WITH cond AS (${onlyIf ?? 'SELECT 1'}),
  w AS (SELECT quarry_writer_alive($9::text::uuid) AS alive FROM cond LIMIT 1),
  v AS (${claim}),
  e AS (
    INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, payload, node_id, node_incarnation, occurred_at)
    SELECT x.event_id, $1::text, v.before + x.n, x.type, x.schema_version, x.payload, $8::text, $9::text, $10::timestamptz
    FROM v, unnest($4::uuid[], $5::text[], $6::int[], $7::jsonb[]) WITH ORDINALITY AS x(event_id, type, schema_version, payload, n)
    RETURNING event_id, stream_version, global_position
  ),
  o AS (
    INSERT INTO outbox (topic, message_key, envelope)
    SELECT $11::text, $1::text, x.envelope || jsonb_build_object('streamVersion', e.stream_version, 'globalPosition', e.global_position)
    FROM e JOIN unnest($4::uuid[], $12::jsonb[]) AS x(event_id, envelope) ON x.event_id = e.event_id
    ORDER BY e.stream_version
  ),
  n AS (SELECT pg_notify(c, p) FROM unnest($13::text[], $14::text[]) AS t(c, p) WHERE EXISTS (SELECT 1 FROM e))${askRelayAwake ? `,\n  r AS (SELECT pg_try_advisory_xact_lock_shared(${RELAY_ASLEEP_LOCK}) AS awake)` : ''}${writes.map((w, i) => `,\n  p${i} AS (${w})`).join('')}
  SELECT EXISTS (SELECT 1 FROM cond) AS allowed, EXISTS (SELECT 1 FROM cond) AND NOT (SELECT alive FROM w) AS fenced, v.before, e.global_position, (SELECT count(*) FROM n) AS notified${askRelayAwake ? ', (SELECT awake FROM r) AS relay_awake' : ''}${heardAsked.length > 0 ? `, (SELECT ARRAY[${heardAsked.join(', ')}]) AS heard` : ''}
  FROM (VALUES (1)) AS one (x) LEFT JOIN v ON true LEFT JOIN e ON true ORDER BY e.stream_version`;
}
