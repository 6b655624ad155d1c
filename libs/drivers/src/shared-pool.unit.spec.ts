import type { DriverSessionSpec } from './driver';
import { SharedPool } from './shared-pool';
import { gate, sessionSpec } from './test-support/sessions';

interface FakeConn {
  id: number;
  key: string;
  closed: boolean;
  /** What `reusable` answers for it: a test sets it as a lost connection or an open transaction would. */
  clean: boolean;
}

const userSession = (sessionId: string, user: string): DriverSessionSpec => ({ ...sessionSpec(sessionId), user });

function fakePool(options: { max?: number; idleMs?: number; failOpens?: number; byUser?: boolean } = {}) {
  const opened: FakeConn[] = [];
  let failOpens = options.failOpens ?? 0;
  const pool = new SharedPool<FakeConn>({
    max: options.max ?? 2,
    idleMs: options.idleMs ?? 60_000,
    keyOf: (session) => (options.byUser ? (session.user ?? '') : ''),
    open: async (session) => {
      if (failOpens-- > 0) throw new Error('cannot connect');
      const conn = { id: opened.length + 1, key: options.byUser ? (session.user ?? '') : '', closed: false, clean: true };
      opened.push(conn);
      return conn;
    },
    close: async (conn) => {
      conn.closed = true;
    },
    reusable: (conn) => conn.clean,
  });
  /** Work that holds its connection until the test opens the gate. */
  const hold = (session: DriverSessionSpec, run: 'run' | 'runNow' = 'run') => {
    const held = gate();
    let conn: FakeConn | undefined;
    const done = pool[run](session, async (c) => {
      conn = c;
      await held.opened;
      return c.id;
    });
    return { done, release: held.open, conn: () => conn };
  };
  const idOf = (session: DriverSessionSpec) => pool.run(session, async (conn) => conn.id);
  return { pool, opened, hold, idOf };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SharedPool', () => {
  it('runs the statements of one session side by side on different connections, then reuses them', async () => {
    const { pool, opened, hold, idOf } = fakePool({ max: 4 });
    const a = hold(sessionSpec('s'));
    const b = hold(sessionSpec('s'));
    await settle();
    expect([a.conn()?.id, b.conn()?.id]).toEqual([1, 2]);
    a.release();
    b.release();
    await Promise.all([a.done, b.done]);
    // The most recently freed first; no new connection for either session.
    expect([await idOf(sessionSpec('s')), await idOf(sessionSpec('t'))]).toEqual([2, 2]);
    expect([opened.length, pool.size]).toEqual([2, 2]);
  });

  it('never opens more than max, and statements leave one connection free for plans', async () => {
    const { pool, opened, hold } = fakePool({ max: 3 });
    const a = hold(sessionSpec('a'));
    const b = hold(sessionSpec('b'));
    const waiting = hold(sessionSpec('c'));
    await settle();
    expect([opened.length, waiting.conn()]).toEqual([2, undefined]);
    // The third connection is for plans: one runs at once while the statement waits.
    expect(await pool.runNow(sessionSpec('c'), async (conn) => conn.id)).toBe(3);
    b.release();
    await settle();
    expect(waiting.conn()?.id).toBe(2);
    a.release();
    waiting.release();
    expect(await Promise.all([a.done, b.done, waiting.done])).toEqual([1, 2, 2]);
    expect([opened.length, pool.size]).toEqual([3, 3]);
  });

  it('plans wait only for plans when all connections are in use, first come first served', async () => {
    const { opened, hold } = fakePool({ max: 2 });
    const long = hold(sessionSpec('a'));
    const plan = hold(sessionSpec('a'), 'runNow');
    const nextPlan = hold(sessionSpec('b'), 'runNow');
    await settle();
    expect([long.conn()?.id, plan.conn()?.id, nextPlan.conn()]).toEqual([1, 2, undefined]);
    plan.release();
    await settle();
    expect(nextPlan.conn()?.id).toBe(2);
    nextPlan.release();
    long.release();
    await Promise.all([long.done, plan.done, nextPlan.done]);
    expect(opened.length).toBe(2);
    // With one connection, statements may take it: then a plan waits for it.
    const single = fakePool({ max: 1 });
    const only = single.hold(sessionSpec('a'));
    const waitingPlan = single.hold(sessionSpec('a'), 'runNow');
    await settle();
    expect([only.conn()?.id, waitingPlan.conn()]).toEqual([1, undefined]);
    only.release();
    waitingPlan.release();
    expect(await Promise.all([only.done, waitingPlan.done])).toEqual([1, 1]);
  });

  it('closes a connection that is not reusable instead of handing it on, and opens one for the next in line', async () => {
    const { pool, opened, hold } = fakePool({ max: 1 });
    const first = hold(sessionSpec('a'));
    const next = hold(sessionSpec('b'));
    await settle();
    opened[0].clean = false;
    first.release();
    await first.done;
    await settle();
    expect(opened.map((c) => [c.id, c.closed])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(next.conn()?.id).toBe(2);
    next.release();
    await next.done;
    expect(pool.size).toBe(1);
  });

  it('gives back a connection after failing work too, and a failed open frees its place', async () => {
    const { pool, idOf } = fakePool({ max: 1, failOpens: 1 });
    await expect(idOf(sessionSpec('a'))).rejects.toThrow('cannot connect');
    expect(pool.size).toBe(0);
    await expect(pool.run(sessionSpec('a'), async () => Promise.reject(new Error('syntax error')))).rejects.toThrow('syntax error');
    expect([await idOf(sessionSpec('b')), pool.size]).toEqual([1, 1]);
  });

  it('keeps keys apart: a connection serves only its own key, and an idle one of another key makes room', async () => {
    const { pool, opened, hold, idOf } = fakePool({ max: 3, byUser: true });
    expect(await idOf(userSession('s1', 'ana'))).toBe(1);
    expect(await idOf(userSession('s2', 'bo'))).toBe(2);
    expect(await idOf(userSession('s3', 'ana'))).toBe(1);
    expect(await idOf(userSession('s4', 'cy'))).toBe(3);
    // Full, all idle: a fourth user's statement closes the longest idle (bo's) in its place.
    expect(await idOf(userSession('s5', 'dee'))).toBe(4);
    expect(opened.map((c) => [c.key, c.closed])).toEqual([
      ['ana', false],
      ['bo', true],
      ['cy', false],
      ['dee', false],
    ]);
    // Full and busy: bo waits; ana's connection, once free, is closed for a connection of bo's.
    const ana = hold(userSession('s1', 'ana'));
    const cy = hold(userSession('s4', 'cy'));
    const dee = hold(userSession('s5', 'dee'), 'runNow');
    const bo = hold(userSession('s2', 'bo'), 'runNow');
    await settle();
    expect(bo.conn()).toBeUndefined();
    ana.release();
    await ana.done;
    await settle();
    expect(bo.conn()).toMatchObject({ id: 5, key: 'bo' });
    expect(opened[0].closed).toBe(true);
    for (const held of [cy, dee, bo]) held.release();
    await Promise.all([cy.done, dee.done, bo.done]);
    expect(pool.size).toBe(3);
  });

  it('closes connections idle for idleMs', async () => {
    jest.useFakeTimers();
    try {
      const { pool, opened, idOf } = fakePool({ idleMs: 1000 });
      await idOf(sessionSpec('a'));
      jest.advanceTimersByTime(999);
      expect(opened[0].closed).toBe(false);
      await idOf(sessionSpec('b'));
      jest.advanceTimersByTime(999);
      expect(opened[0].closed).toBe(false);
      jest.advanceTimersByTime(1);
      expect([opened[0].closed, pool.size]).toEqual([true, 0]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('discard closes idle connections that broke', async () => {
    const { pool, opened, idOf } = fakePool();
    await idOf(sessionSpec('a'));
    pool.discard((conn) => conn.id === 1);
    expect([opened[0].closed, pool.size]).toEqual([true, 0]);
    expect(await idOf(sessionSpec('a'))).toBe(2);
  });

  it('close() ends every connection, those in use too, and fails waiting and later work', async () => {
    const { pool, opened, hold, idOf } = fakePool({ max: 1 });
    const running = hold(sessionSpec('a'));
    const waiting = hold(sessionSpec('b'));
    await settle();
    await pool.close();
    expect(opened.map((c) => c.closed)).toEqual([true]);
    await expect(waiting.done).rejects.toThrow('driver is closed');
    running.release();
    await running.done;
    await expect(idOf(sessionSpec('c'))).rejects.toThrow('driver is closed');
    await expect(pool.runNow(sessionSpec('c'), async () => 1)).rejects.toThrow('driver is closed');
    expect([opened.length, pool.size]).toEqual([1, 0]);
  });
});
