import { randomUUID } from 'node:crypto';
import { DbPurposes, StatementCounts } from '@quarry/platform';
import { appendSessions, createTestDatabase, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import pino from 'pino';
import { createPool } from '../db/pool';
import { runMigrations } from '../db/migrate';
import { createKafka, ensureTopics } from '../kafka/kafka';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { OutboxRelay } from '../outbox/outbox-relay';
import { PgEventStore } from '../store/event-store';
import { createCheckedTallyTable, createTallyTable, tallyProjection, tallyRows, writesOnlyTallyProjectionOf } from '../test-support/tally-projection';
import { ProjectionRunner } from './projection-runner';

const logger = pino({ level: 'silent' });
/** The runner's own log, to know when its position check after joining is done. */
const runnerLines: string[] = [];
const runnerLogger = pino({ level: 'info' }, { write: (line: string) => void runnerLines.push(line) });

/**
 * What a Kafka batch costs the projection's database, counted on the runner's own pool: the BEGIN
 * with its locks and the stored offset, the projection's own statements (the tally projection
 * sends two per event), the record with the COMMIT (ADR 11, "Events, second pass"). A projection
 * that only writes sends its statements with the COMMIT ("Events, third pass"), and, when its
 * events follow the positions their streams are at, the whole batch in one round trip ("sixth pass").
 */
describe('a projection batch (real Kafka and PostgreSQL, counted pool)', () => {
  let db: TestDatabase;
  let kafka: Kafka;
  let counted: Pool;
  let runner: ProjectionRunner;
  let relay: OutboxRelay;
  let store: PgEventStore;
  const counts = new StatementCounts(new DbPurposes(false));
  const writesOnly = writesOnlyTallyProjectionOf('tally_writes', 'stream_tally_writes');
  /** Each batch a projection applied (the runner's hook), with how many events it applied. */
  const batches: { projection: string; applied: number }[] = [];
  const total = () => Object.values(counts.snapshot()).reduce((sum, c) => ({ statements: sum.statements + c.statements, writeCommits: sum.writeCommits + c.writeCommits }), { statements: 0, writeCommits: 0 });

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    await createTallyTable(db.pool);
    await createCheckedTallyTable(db.pool, 'stream_tally_writes');
    const prefix = uniqueTopicPrefix();
    kafka = createKafka({ brokers: testEnv().kafkaBrokers, clientId: 'batch-round-trips-test', topicPrefix: prefix, partitions: 3 }, logger);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, prefix, 3);
    await admin.disconnect();
    counted = createPool(db.url, 4, logger, undefined, counts);
    store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, prefix);
    runner = new ProjectionRunner([tallyProjection, writesOnly], counted, store, kafka, prefix, runnerLogger, {
      applied: (projection, outcome) => batches.push({ projection, applied: outcome.applied }),
    });
    await runner.start();
    relay = new OutboxRelay(db.pool, kafka, { batchSize: 200, idleMs: 50, partitions: 3 }, logger);
    relay.start();
  });

  afterAll(async () => {
    await relay.stop();
    await runner.stop();
    await counted.end();
    await db.drop();
  });

  const appendOneAndWait = async () => {
    const [stream] = await appendSessions(store, 1, 1);
    await waitFor('the event applied', async () => (await tallyRows(db.pool)).some((r) => r.stream_id === stream));
    await waitFor('the event applied by the writes-only projection', async () => (await tallyRows(db.pool, 'stream_tally_writes')).some((r) => r.stream_id === stream));
    // Visible elsewhere once committed, counted once its COMMIT's answer is read: the runner's connections back in the pool.
    await waitFor('the batches’ connections released', async () => counted.idleCount === counted.totalCount);
  };

  it('is two round trips and one write commit besides the projection’s own statements; one round trip in all when it only writes and finds what it expects', async () => {
    // The first event also waits for the group join and its position check (statements of their own).
    await appendOneAndWait();
    await waitFor('the position check after joining', async () => runnerLines.some((l) => l.includes('positions checked after joining')));
    for (let i = 0; i < 3; i++) {
      const before = total();
      const from = batches.length;
      await appendOneAndWait();
      const after = total();
      const mine = batches.slice(from);
      // The event applied once by each projection. Kafka may deliver it again (a fetch sent before
      // its offset was resolved): that copy is skipped by the stored position, in a batch of its own.
      expect(mine.filter((b) => b.applied > 0)).toEqual([
        { projection: 'tally', applied: 1 },
        { projection: 'tally_writes', applied: 1 },
      ]);
      // Per batch, one transaction and 1 write commit. The tally: 2 round trips, plus its own 2
      // statements per event it applies. The writes-only tally: 1 round trip, its statements in it,
      // when it finds the positions its events follow; a copy Kafka delivered again finds its
      // stored position past it, is refused (1, and its ROLLBACK), and is skipped the careful way (2).
      const roundTrips = (b: { projection: string; applied: number }) => (b.projection === 'tally' ? 2 + 2 * b.applied : b.applied > 0 ? 1 : 1 + 1 + 2);
      const expected = mine.reduce((sum, b) => ({ statements: sum.statements + roundTrips(b), writeCommits: sum.writeCommits + 1 }), { statements: 0, writeCommits: 0 });
      expect({ statements: after.statements - before.statements, writeCommits: after.writeCommits - before.writeCommits }).toEqual(expected);
      expect(expected.statements).toBeGreaterThanOrEqual(2 + 2 + 1);
    }
  });
});
