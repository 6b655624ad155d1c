import { parseEvent } from '@quarry/contracts';
import type { Pool } from 'pg';
import { inTransaction } from '../db/sql';
import type { PgEventStore } from '../store/event-store';
import type { Projection } from './projection';
import { lockProjection } from './projection-lock';
import { StreamPositions } from './stream-positions';
import { streamsBehind } from './streams-behind';

/** Streams caught up per transaction: bounded, so a long catch-up never holds one huge transaction. */
const CHUNK = 200;

/**
 * Applies from the event store whatever the projection is behind on, stream by stream in
 * version order: what a replaced Kafka topic will never carry again (relayed to the old topic,
 * not applied before it vanished). Versions are locked and checked as for a Kafka batch, so an
 * event that Kafka brings as well is applied once. Returns how many events it applied.
 */
export async function catchUpFromStore(pool: Pool, store: PgEventStore, projection: Projection): Promise<number> {
  const behind = await streamsBehind(pool, projection);
  let applied = 0;
  for (let i = 0; i < behind.length; i += CHUNK) {
    applied += await inTransaction(pool, async (tx) => {
      await lockProjection(tx, projection.name, 'shared');
      const chunk = behind.slice(i, i + CHUNK);
      const positions = await StreamPositions.lock(tx, projection.name, chunk);
      let count = 0;
      for (const stream of chunk) {
        for (const event of await store.readStream(stream, positions.versionOf(stream) + 1, tx)) {
          await projection.apply(tx, parseEvent(event));
          positions.advance(stream, event.streamVersion);
          count++;
        }
      }
      await positions.save(tx);
      return count;
    });
  }
  return applied;
}
