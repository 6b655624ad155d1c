import { parseEvent, type EventEnvelope } from '@quarry/contracts';
import type { Sql } from '../db/sql';
import type { PgEventStore } from '../store/event-store';
import type { Projection } from './projection';
import { StreamPositions } from './stream-positions';

/** Writes the positions the batch moved (the runner leaves them to the statement sent with its COMMIT). */
export type SavePositions = (tx: Sql, positions: StreamPositions) => Promise<void>;

export interface ApplyOptions {
  save?: SavePositions;
  /** The delivered streams' positions, already locked in this transaction (else locked here). */
  positions?: StreamPositions;
  /** Where the projection's statements go (by default `tx`): statements sent later in `tx` (DeferredStatements). */
  writes?: Sql;
}

export interface ApplyOutcome {
  applied: number;
  skipped: number;
}

/**
 * Applies delivered events to a projection, each stream strictly in version order: a version
 * already applied is skipped (redelivery, republish); a version past the next one means events
 * are missing from what was delivered, and they are read from the event store first.
 */
export async function applyInOrder(
  tx: Sql,
  projection: Projection,
  store: PgEventStore,
  delivered: EventEnvelope[],
  { save = (sql, positions) => positions.save(sql), positions: locked, writes = tx }: ApplyOptions = {},
): Promise<ApplyOutcome> {
  const positions = locked ?? (await StreamPositions.lock(tx, projection.name, delivered.map((e) => e.streamId)));
  const outcome: ApplyOutcome = { applied: 0, skipped: 0 };
  for (const envelope of delivered) {
    const last = positions.versionOf(envelope.streamId);
    if (envelope.streamVersion <= last) {
      outcome.skipped++;
      continue;
    }
    const missing =
      envelope.streamVersion > last + 1
        ? (await store.readStream(envelope.streamId, last + 1, tx)).filter((e) => e.streamVersion < envelope.streamVersion)
        : [];
    for (const event of [...missing, envelope]) {
      await projection.apply(writes, parseEvent(event));
      positions.advance(event.streamId, event.streamVersion);
      outcome.applied++;
    }
  }
  await save(tx, positions);
  return outcome;
}
