import type { EventEnvelope } from '@quarry/contracts';
import { RoundTripGatherer } from '../db/round-trip-gatherer';
import { readAgainIfConnectionLost, type Sql } from '../db/sql';
import { EVENT_COLUMNS, envelopeFromRow, type EventRow } from './rows';

export interface StreamTail {
  streamId: string;
  /** The first version wanted: events from this one on. */
  fromVersion: number;
}

interface Ask extends StreamTail {
  resolve: (events: EventEnvelope[]) => void;
  reject: (error: unknown) => void;
}

/** One stream's events from $2 on. Named: parsed and planned once per connection. */
export const READ_STREAM = {
  name: 'quarry-read-stream',
  text: `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`,
};

/**
 * Several streams' events at once: an index scan of (stream_id, stream_version) per stream, as
 * LATERAL keeps it (a plain join was planned as bitmap scans and a sort, several times the cost).
 */
const READ_TAILS = {
  name: 'quarry-read-stream-tails',
  text: `SELECT e.* FROM unnest($1::text[], $2::int[]) AS t(stream_id, from_version),
         LATERAL (SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = t.stream_id AND stream_version >= t.from_version ORDER BY stream_version) e`,
};

/** The events of each tail, in order, by stream: one statement, the single-stream one for a single tail. */
export async function readStreamTails(sql: Sql, tails: readonly StreamTail[]): Promise<Map<string, EventEnvelope[]>> {
  const statement =
    tails.length === 1 ? { ...READ_STREAM, values: [tails[0].streamId, tails[0].fromVersion] } : { ...READ_TAILS, values: [tails.map((t) => t.streamId), tails.map((t) => t.fromVersion)] };
  const { rows } = await sql.query<EventRow>(statement);
  const byStream = new Map<string, EventEnvelope[]>();
  for (const row of rows) {
    const events = byStream.get(row.stream_id);
    if (events) events.push(envelopeFromRow(row));
    else byStream.set(row.stream_id, [envelopeFromRow(row)]);
  }
  // Rows of one stream come in its order from the nested loop; SQL does not promise it across the LATERAL.
  for (const events of byStream.values()) if (events.length > 1) events.sort((a, b) => a.streamVersion - b.streamVersion);
  return byStream;
}

/**
 * The per-request read of an aggregate's newer events (ADR 7), gathered (ADR 17). Each read is
 * answered by a statement sent after it was asked, so it sees every write acknowledged before it,
 * on any node, exactly as a statement of its own would. But one statement serves every read asked
 * while the one before it was out: under load a node sends one statement per round trip instead
 * of one per request; a read asked while none is out goes at once.
 */
export class StreamTailReads {
  // Sent as soon as the caller's synchronous work is done, not at the end of this turn of the
  // event loop: a read alone must not wait behind the other I/O callbacks of the turn (a Kafka
  // batch). Reads asked meanwhile wait for this one and go together in the next.
  private readonly gatherer = new RoundTripGatherer<Ask>((asks) => this.send(asks), queueMicrotask);

  constructor(private readonly sql: Sql) {}

  read(streamId: string, fromVersion: number): Promise<EventEnvelope[]> {
    return new Promise((resolve, reject) => this.gatherer.add({ streamId, fromVersion, resolve, reject }));
  }

  private async send(asks: Ask[]): Promise<void> {
    // One tail per stream, from the lowest version any of its asks wants.
    const from = new Map<string, number>();
    for (const { streamId, fromVersion } of asks) from.set(streamId, Math.min(fromVersion, from.get(streamId) ?? fromVersion));
    try {
      // A pure read: asked again when a failover left its pooled connection dead.
      const tails = await readAgainIfConnectionLost(() => readStreamTails(this.sql, [...from].map(([streamId, fromVersion]) => ({ streamId, fromVersion }))));
      for (const ask of asks) {
        const events = tails.get(ask.streamId) ?? [];
        ask.resolve(events.length > 0 && events[0].streamVersion < ask.fromVersion ? events.filter((e) => e.streamVersion >= ask.fromVersion) : events);
      }
    } catch (error) {
      for (const ask of asks) ask.reject(error);
    }
  }
}
