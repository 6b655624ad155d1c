import type { EventEnvelope } from '@quarry/contracts';
import type { Pool } from 'pg';
import { RoundTripGatherer } from '../db/round-trip-gatherer';
import { readAgainIfConnectionLost } from '../db/sql';
import type { AppendResult, DraftedAppend } from './event-store';

/** An append waiting for the next batch; `expected` is a version, 0 for a new stream. */
interface Waiting {
  append: DraftedAppend;
  expected: number;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** What the batch statement says of one append; `before` null: the stream was not at the expected version. */
export type BatchOutcome = { kind: 'appended'; result: AppendResult } | { kind: 'version-moved' } | { kind: 'fenced' };

interface BatchRow {
  alive: boolean;
  i: number;
  before: number | null;
  event_id: string | null;
  global_position: string | null;
}

/** The most appends one statement carries. */
const MAX_BATCH = 64;

/** The oldest waiting appends, one per stream, at most MAX_BATCH; the rest wait for the next. */
function oneStatement(waiting: Waiting[]): { batch: Waiting[]; later: Waiting[] } {
  const batch: Waiting[] = [];
  const later: Waiting[] = [];
  const streams = new Set<string>();
  for (const w of waiting) {
    if (batch.length < MAX_BATCH && !streams.has(w.append.streamId)) {
      streams.add(w.append.streamId);
      batch.push(w);
    } else later.push(w);
  }
  return { batch, later };
}

/**
 * Group commit for appends that commit on their own (ADR 11): while one statement is on its way,
 * the appends that come are gathered and go together in the next, one round trip and one WAL
 * flush for all of them. Each keeps its own stream's version check: one that finds its stream
 * moved fails alone; the writer's fence holds for all. Alone, an append goes as soon as it comes
 * (no wait for company), by `single`. Never two appends to one stream in a statement: the later
 * waits for the next, so a stream's appends keep their order. A statement that fails as a whole
 * (a deadlock between two nodes' batches, a lost connection) sends each of its appends alone.
 */
export class AppendBatcher {
  private readonly gatherer = new RoundTripGatherer<Waiting>(async (waiting) => {
    const { batch, later } = oneStatement(waiting);
    await this.send(batch);
    return later;
  });

  constructor(
    private readonly pool: Pool,
    private readonly writerIncarnation: string,
    private readonly single: (append: DraftedAppend, expected: number) => Promise<AppendResult>,
    private readonly settle: (append: DraftedAppend, expected: number, outcome: BatchOutcome) => Promise<AppendResult>,
  ) {}

  append(append: DraftedAppend, expected: number): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => this.gatherer.add({ append, expected, resolve, reject }));
  }

  private async send(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      await this.single(only.append, only.expected).then(only.resolve, only.reject);
      return;
    }
    let outcomes: BatchOutcome[];
    try {
      outcomes = await this.statement(batch);
    } catch {
      // Failed as a whole: nothing of it was written; each goes alone and meets its own fate.
      await Promise.all(batch.map((w) => this.single(w.append, w.expected).then(w.resolve, w.reject)));
      return;
    }
    await Promise.all(batch.map((w, i) => this.settle(w.append, w.expected, outcomes[i]).then(w.resolve, w.reject)));
  }

  private async statement(batch: Waiting[]): Promise<BatchOutcome[]> {
    const events = batch.flatMap((w, i) => w.append.drafts.map((d, n) => ({ i: i + 1, n: n + 1, draft: d, payload: w.append.payloads[n], envelope: w.append.envelopes[n], topic: w.append.topic })));
    const values = [
      this.writerIncarnation,
      batch.map((w) => w.append.streamId),
      batch.map((w) => w.append.drafts.length),
      batch.map((w) => w.expected),
      events.map((e) => e.i),
      events.map((e) => e.n),
      events.map((e) => e.draft.eventId),
      events.map((e) => e.draft.type),
      events.map((e) => e.draft.schemaVersion),
      events.map((e) => e.payload),
      events.map((e) => e.draft.nodeId),
      events.map((e) => e.draft.occurredAt),
      events.map((e) => e.topic),
      events.map((e) => e.envelope),
    ];
    const { rows } = await readAgainIfConnectionLost(() => this.pool.query<BatchRow>({ name: 'quarry-append-batch', text: BATCH_STATEMENT, values }));
    const byAppend = new Map<number, BatchRow[]>();
    for (const row of rows) byAppend.set(row.i, [...(byAppend.get(row.i) ?? []), row]);
    return batch.map((w, index): BatchOutcome => {
      const mine = byAppend.get(index + 1) ?? [];
      if (mine.length === 0 || !mine[0].alive) return { kind: 'fenced' };
      const before = mine[0].before;
      if (before === null) return { kind: 'version-moved' };
      const positions = new Map(mine.map((r) => [r.event_id, Number(r.global_position)]));
      const appended: EventEnvelope[] = w.append.drafts.map((draft, n) => ({ ...draft, streamVersion: before + n + 1, globalPosition: positions.get(draft.eventId)! }) as EventEnvelope);
      return { kind: 'appended', result: { nextExpectedVersion: before + appended.length, events: appended } };
    });
  }
}

/**
 * Several appends in one statement. `a`: one row per append (its stream, event count, expected
 * version, 0 for a new stream). The fence `w` as in the single append. New streams are inserted,
 * others moved from their expected version, in stream order (two batches never wait on each
 * other's rows in opposite orders but by chance of plan; a deadlock fails the statement, whose
 * appends then go alone). Events and outbox rows follow only for the claimed streams, in the
 * batch's order. One row back per event of an append that was written, one row with no `before`
 * for one that was not, each saying whether the writer was alive.
 */
const BATCH_STATEMENT = `WITH w AS (SELECT quarry_writer_alive($1::text::uuid) AS alive),
  a AS (SELECT * FROM unnest($2::text[], $3::int[], $4::int[]) WITH ORDINALITY AS a(stream_id, n, expected, i)),
  fresh AS (
    INSERT INTO streams (stream_id, version)
    SELECT stream_id, n FROM a WHERE expected = 0 AND (SELECT alive FROM w) ORDER BY stream_id
    ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id, 0 AS before
  ),
  moved AS (
    UPDATE streams s SET version = s.version + a.n, updated_at = now()
    FROM (SELECT * FROM a WHERE expected > 0 ORDER BY stream_id) a
    WHERE s.stream_id = a.stream_id AND s.version = a.expected AND (SELECT alive FROM w)
    RETURNING s.stream_id, s.version - a.n AS before
  ),
  v AS (SELECT stream_id, before FROM fresh UNION ALL SELECT stream_id, before FROM moved),
  x AS (
    SELECT x.*, a.stream_id FROM unnest($5::int[], $6::int[], $7::uuid[], $8::text[], $9::int[], $10::jsonb[], $11::text[], $12::timestamptz[], $13::text[], $14::jsonb[])
      WITH ORDINALITY AS x(i, n, event_id, type, schema_version, payload, node_id, occurred_at, topic, envelope, ord)
    JOIN a ON a.i = x.i
  ),
  e AS (
    INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, payload, node_id, node_incarnation, occurred_at)
    SELECT x.event_id, x.stream_id, v.before + x.n, x.type, x.schema_version, x.payload, x.node_id, $1::text, x.occurred_at
    FROM x JOIN v ON v.stream_id = x.stream_id ORDER BY x.ord
    RETURNING event_id, stream_id, stream_version, global_position
  ),
  o AS (
    INSERT INTO outbox (topic, message_key, envelope)
    SELECT x.topic, x.stream_id, x.envelope || jsonb_build_object('streamVersion', e.stream_version, 'globalPosition', e.global_position)
    FROM e JOIN x ON x.event_id = e.event_id
    ORDER BY e.global_position
  )
  SELECT (SELECT alive FROM w) AS alive, a.i::int AS i, v.before, e.event_id, e.global_position
  FROM a LEFT JOIN v ON v.stream_id = a.stream_id LEFT JOIN e ON e.stream_id = a.stream_id
  ORDER BY a.i, e.global_position`;
