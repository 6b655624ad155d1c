import { createTestDatabase, TcpProxy, testEnv, waitFor, type TestDatabase } from '@quarry/testing';
import { Client, type Pool } from 'pg';
import pino from 'pino';
import { AdvisoryLeadership } from './advisory-leadership';
import { PgListener } from './pg-listener';
import { createPool } from './pool';
import { inTransaction, readAgainIfConnectionLost } from './sql';

/**
 * Connections of Quarry's pool whose backends PostgreSQL terminates (57P01, pg_terminate_backend):
 * an unhandled 'error' on a client would end this Jest process, so each case getting to its
 * assertions is itself part of the proof.
 */
describe('connections terminated by the server (real PostgreSQL)', () => {
  let db: TestDatabase;
  let admin: Client;
  let pool: Pool;
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });

  /** Terminates every backend of the test's database (only that one), from a connection to another. */
  const terminate = async () =>
    (await admin.query<{ n: number }>(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db.name])).rows[0].n;
  const backends = async (where = 'true') =>
    (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND ${where}`, [db.name])).rows.map((r) => r.pid);

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: testEnv().adminUrl });
    await admin.connect();
  });

  beforeEach(() => {
    lines.length = 0;
    pool = createPool(db.url, 4, logger);
  });

  afterEach(() => pool.end());

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('fails a transaction whose connection is terminated mid-statement, destroys that connection, and the next transaction works', async () => {
    const running = inTransaction(pool, (tx) => tx.query('SELECT pg_sleep(30)'));
    await waitFor('the sleep to run', async () => (await backends(`query = 'SELECT pg_sleep(30)' AND state = 'active'`)).length === 1);
    expect(await terminate()).toBe(1);

    await expect(running).rejects.toMatchObject({ code: '57P01' });
    await waitFor('the terminated connection to leave the pool', () => pool.totalCount === 0);
    expect(await inTransaction(pool, async (tx) => (await tx.query('SELECT 7 AS v')).rows[0].v)).toBe(7);
  });

  it('takes idle connections the server ended out of the pool, and logs each loss once, checked out or not', async () => {
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect(), pool.connect()]);
    const [checkedOut, ...idle] = clients;
    idle.forEach((c) => c.release());
    expect(await terminate()).toBe(4);
    await waitFor('the idle connections to leave the pool', () => pool.idleCount === 0 && pool.totalCount === 1);
    // The checked-out one hears it twice (the server's message, then the socket's end).
    await waitFor('four losses logged', () => lines.filter((l) => l.includes('database connection lost')).length === 4);
    await expect(checkedOut.query('SELECT 1')).rejects.toThrow(/not queryable/);
    checkedOut.release(true);
    expect((await pool.query('SELECT 1 AS v')).rows[0].v).toBe(1);
    const lost = lines.filter((l) => l.includes('database connection lost'));
    expect(lost).toHaveLength(4);
    expect(lost.every((l) => l.includes('57P01'))).toBe(true);
  });

  /**
   * A pooled connection whose backend is gone while its client has not read the news yet, as each
   * is when every backend goes at once: its socket is paused until the pool hands it out again.
   * Returns what the pool hands out from then on.
   */
  const staleConnection = async () => {
    const stale = await pool.connect();
    const pid = (await stale.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const socket = (stale as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
    socket.pause();
    stale.release();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor('the backend to be gone', async () => !(await backends()).includes(pid));
    const handedOut: unknown[] = [];
    pool.on('acquire', (client) => {
      handedOut.push(client);
      if (client === stale) socket.resume();
    });
    return { stale, pid, handedOut };
  };
  const pidOf = async (sql: { query: Pool['query'] }) => (await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

  it('replaces a pooled connection found dead at BEGIN (nothing ran on it) and runs the transaction on a fresh one', async () => {
    const { stale, pid: stalePid, handedOut } = await staleConnection();
    const pid = await inTransaction(pool, pidOf);
    expect(handedOut[0]).toBe(stale);
    expect(handedOut).toHaveLength(2);
    expect(pid).not.toBe(stalePid);
  });

  it('asks a read again on another connection when its pooled one turns out dead; a plain query fails with 57P01', async () => {
    const first = await staleConnection();
    expect(await readAgainIfConnectionLost(() => pidOf(pool))).not.toBe(first.pid);
    expect(first.handedOut[0]).toBe(first.stale);

    pool.removeAllListeners('acquire');
    await staleConnection();
    await expect(pidOf(pool)).rejects.toMatchObject({ code: '57P01' });
  });

  it('keeps a listener listening across terminations (telling it each time it listens again), and one that was stopped stays stopped', async () => {
    const heard: string[] = [];
    let relistened = 0;
    const listener = new PgListener(pool, ['quarry_test_channel'], (_, payload) => heard.push(String(payload)), 'test listener', logger, () => relistened++);
    await listener.start();
    try {
      for (const round of [1, 2, 3]) {
        await waitFor(`round ${round}: the listener's connection`, async () => (await backends(`query LIKE 'LISTEN%'`)).length === 1);
        await terminate();
        await waitFor(
          `round ${round}: a notice heard after the termination`,
          async () => {
            await pool.query(`SELECT pg_notify('quarry_test_channel', $1)`, [`after ${round}`]);
            return heard.includes(`after ${round}`);
          },
          { intervalMs: 100 },
        );
        // Told after it listens again, so it can make up for notices sent while it did not.
        expect(relistened).toBe(round);
      }
    } finally {
      listener.stop();
    }
    await waitFor('the stopped listener to let its connection go', async () => (await backends(`query LIKE 'LISTEN%'`)).length === 0);
    expect(lines.filter((l) => l.includes('test listener: listener lost; reconnecting'))).toHaveLength(3);
  });

  it('holds a listener\'s interest on its connection until released, and takes it again after a termination', async () => {
    const listener = new PgListener(pool, ['quarry_test_channel'], () => undefined, 'test listener', logger);
    const interest = { classId: 7, key: 'a query handle' };
    /** Holders of the interest's lock, shared, as pg_locks shows them. */
    const holders = async () =>
      (
        await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = $1 AND l.locktype = 'advisory' AND l.mode = 'ShareLock' AND l.granted AND l.classid = $2 AND l.objid = hashtext($3)::oid AND l.objsubid = 2`,
          [db.name, interest.classId, interest.key],
        )
      ).rows[0].n;
    await listener.start();
    try {
      await listener.hold(interest);
      await listener.hold(interest);
      expect(await holders()).toBe(1);
      await terminate();
      await waitFor('the interest held again on the new connection', async () => (await holders()) === 1, { intervalMs: 100 });
      // Two holds: the first release keeps it.
      listener.release(interest);
      listener.release(interest);
      await waitFor('the interest released', async () => (await holders()) === 0);
    } finally {
      listener.stop();
    }
  });

  it('keeps trying to listen again while the database refuses connections, and listens once it is back', async () => {
    const url = new URL(db.url);
    const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    const proxied = createPool(url.toString(), 4, logger);
    const heard: string[] = [];
    const listener = new PgListener(proxied, ['quarry_test_channel'], (_, payload) => heard.push(String(payload)), 'test listener', logger);
    try {
      await listener.start();
      await proxy.cut();
      await waitFor('two failed reconnects', () => lines.filter((l) => l.includes('test listener: listener could not reconnect; trying again')).length >= 2);
      await proxy.restore();
      await waitFor(
        'a notice heard once the database is back',
        async () => {
          await pool.query(`SELECT pg_notify('quarry_test_channel', 'back')`);
          return heard.includes('back');
        },
        { intervalMs: 100 },
      );
    } finally {
      listener.stop();
      await proxied.end();
      await proxy.close();
    }
  });

  it('gives leadership up when the lock connection is terminated, and another can take it', async () => {
    const changes: boolean[] = [];
    const leadership = new AdvisoryLeadership(pool, 7_041_998_777, 'test lock', logger, (leader) => changes.push(leader));
    expect(await leadership.tryAcquire()).toBeDefined();
    await terminate();
    await waitFor('leadership to be given up', () => leadership.client === undefined);
    expect(changes).toEqual([true, false]);
    expect(await leadership.tryAcquire()).toBeDefined();
    await leadership.release();
    expect(changes).toEqual([true, false, true, false]);
  });
});
