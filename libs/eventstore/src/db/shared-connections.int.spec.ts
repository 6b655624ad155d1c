import { createTestDatabase, testEnv, waitFor, type TestDatabase } from '@quarry/testing';
import { Client, type Pool } from 'pg';
import pino from 'pino';
import { AdvisoryLeadership } from './advisory-leadership';
import { PgListener } from './pg-listener';
import { createPool } from './pool';

/** A node's leaderships and listeners pin one connection each kind, not one each, of its pool (real PostgreSQL). */
describe("a pool's locks and listeners share a connection", () => {
  let db: TestDatabase;
  let admin: Client;
  let pool: Pool;
  let otherNode: Pool;
  const logger = pino({ level: 'silent' });

  /** Backends of the test's database holding advisory locks, with how many each holds. */
  const lockHolders = async () =>
    (
      await admin.query<{ pid: number; locks: number }>(
        `SELECT l.pid, count(*)::int AS locks FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1 GROUP BY l.pid`,
        [db.name],
      )
    ).rows;
  const listeningBackends = async () =>
    (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`, [db.name])).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: testEnv().adminUrl });
    await admin.connect();
  });

  beforeEach(() => {
    pool = createPool(db.url, 10, logger);
    otherNode = createPool(db.url, 2, logger);
  });

  /** Whatever a failed case left held, let go, so that the pools can end. */
  const leftovers: { release?(): Promise<void>; stop?(): void }[] = [];

  afterEach(async () => {
    for (const held of leftovers.splice(0)) await (held.release?.() ?? held.stop?.());
    await pool.end();
    await otherNode.end();
  });

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('holds every lock a node wins on one connection, keeps them from other nodes, and gives the connection back once it holds none', async () => {
    const keys = [7_041_998_901, 7_041_998_902, 7_041_998_903, 7_041_998_904, 7_041_998_905];
    const leaderships = keys.map((key) => new AdvisoryLeadership(pool, key, `lock ${key}`, logger));
    leftovers.push(...leaderships);
    const clients = await Promise.all(leaderships.map((l) => l.tryAcquire()));
    expect(new Set(clients).size).toBe(1);
    expect(clients[0]).toBeDefined();
    expect(await lockHolders()).toEqual([{ pid: expect.any(Number), locks: keys.length }]);
    const refused = new AdvisoryLeadership(otherNode, keys[0], 'the other node', logger);
    leftovers.push(refused);
    expect(await refused.tryAcquire()).toBeUndefined();

    await leaderships[0].release();
    expect(await lockHolders()).toEqual([{ pid: expect.any(Number), locks: keys.length - 1 }]);
    const other = new AdvisoryLeadership(otherNode, keys[0], 'the other node', logger);
    leftovers.push(other);
    expect(await other.tryAcquire()).toBeDefined();
    await other.release();

    for (const leadership of leaderships.slice(1)) await leadership.release();
    expect(await lockHolders()).toEqual([]);
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });

  it('LISTENs for every listener of a node on one connection; each hears its own channels only, a stopped one nothing', async () => {
    const heard: Record<string, string[]> = { executor: [], finish: [], results: [] };
    const listeners = [
      new PgListener(pool, ['quarry_test_queue', 'quarry_test_cancel'], (channel, payload) => heard.executor.push(`${channel}:${payload}`), 'executor', logger),
      new PgListener(pool, ['quarry_test_finished'], (channel, payload) => heard.finish.push(`${channel}:${payload}`), 'finish', logger),
      new PgListener(pool, ['quarry_test_released'], (channel, payload) => heard.results.push(`${channel}:${payload}`), 'results', logger),
    ];
    leftovers.push(...listeners);
    await Promise.all(listeners.map((l) => l.start()));
    expect(await listeningBackends()).toHaveLength(1);

    const notify = (channel: string, payload: string) => otherNode.query('SELECT pg_notify($1, $2)', [channel, payload]);
    for (const channel of ['quarry_test_queue', 'quarry_test_cancel', 'quarry_test_finished', 'quarry_test_released']) await notify(channel, 'one');
    await waitFor('every notice heard', () => heard.executor.length + heard.finish.length + heard.results.length === 4);
    expect(heard).toEqual({
      executor: ['quarry_test_queue:one', 'quarry_test_cancel:one'],
      finish: ['quarry_test_finished:one'],
      results: ['quarry_test_released:one'],
    });

    listeners[1].stop();
    await notify('quarry_test_finished', 'two');
    await notify('quarry_test_released', 'two');
    await waitFor('the notice of a listener still running', () => heard.results.length === 2);
    expect(heard.finish).toEqual(['quarry_test_finished:one']);

    listeners[0].stop();
    listeners[2].stop();
    await waitFor('the listening connection to be let go with its last listener', async () => (await listeningBackends()).length === 0);
  });
});
