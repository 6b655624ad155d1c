import { randomUUID } from 'node:crypto';
import { runMigrations } from '@quarry/eventstore';
import { createTestDatabase, type TestDatabase } from '@quarry/testing';
import { QUERY_MIGRATIONS } from '../index';
import { queryWork } from './query-work';

/** The executors' work queue on a real PostgreSQL: what the backup look sees, and what a claim takes. */
describe('the query work queue (real PostgreSQL)', () => {
  let db: TestDatabase;
  const owner = { nodeId: 'L1', incarnation: randomUUID() };

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, QUERY_MIGRATIONS) });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('sees a waiting query only while nobody owns it, and a claim takes it', async () => {
    expect(await queryWork.anyWaiting(db.pool)).toBe(false);

    const handle = randomUUID();
    await queryWork.enqueue(db.pool, handle, 'NORMAL');
    expect(await queryWork.anyWaiting(db.pool)).toBe(true);

    expect(await queryWork.claim(db.pool, 4, owner)).toEqual([handle]);
    expect(await queryWork.anyWaiting(db.pool)).toBe(false);
    expect(await queryWork.claim(db.pool, 4, owner)).toEqual([]);
  });
});
