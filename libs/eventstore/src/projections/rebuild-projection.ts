import { STREAM_FAMILIES, familyOf, parseEvent } from '@quarry/contracts';
import type { Pool } from 'pg';
import { inTransaction } from '../db/sql';
import type { PgEventStore } from '../store/event-store';
import type { Projection } from './projection';
import { lockProjection } from './projection-lock';
import { StreamPositions } from './stream-positions';

const PAGE = 1000;

/**
 * Rebuilds a projection from scratch out of the event store (the source of truth, which Kafka's
 * retention is not): empties its tables, replays every event of its families in global order,
 * and records each stream's version, all in one transaction. The live consumers keep running;
 * the recorded versions make them skip what the rebuild already applied.
 */
export async function rebuildProjection(pool: Pool, store: PgEventStore, projection: Projection): Promise<number> {
  const families = new Set(projection.families);
  if (![...families].every((f) => STREAM_FAMILIES.includes(f))) throw new Error(`${projection.name} names an unknown family`);
  return inTransaction(pool, async (tx) => {
    await lockProjection(tx, projection.name, 'exclusive');
    await tx.query(`TRUNCATE ${projection.tables.map((t) => `"${t}"`).join(', ')}`);
    await tx.query('DELETE FROM projection_streams WHERE projection = $1', [projection.name]);
    let after = 0;
    let applied = 0;
    for (;;) {
      const page = await store.readAll(after, PAGE, tx);
      if (page.length === 0) break;
      after = page[page.length - 1].globalPosition!;
      const mine = page.filter((e) => families.has(familyOf(e.streamId)));
      if (mine.length === 0) continue;
      const positions = await StreamPositions.lock(tx, projection.name, mine.map((e) => e.streamId));
      for (const event of mine) {
        await projection.apply(tx, parseEvent(event));
        positions.advance(event.streamId, event.streamVersion);
        applied++;
      }
      await positions.save(tx);
    }
    return applied;
  });
}
