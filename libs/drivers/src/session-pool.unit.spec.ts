import type { DriverSessionSpec } from './driver';
import { SessionPool } from './session-pool';
import { gate, sessionSpec } from './test-support/sessions';

interface FakeConn {
  id: number;
  session: string;
  version: string;
  closed: boolean;
}

function fakePool(options: { maxSessions?: number; idleMs?: number; failOpens?: number } = {}) {
  const opened: FakeConn[] = [];
  let failOpens = options.failOpens ?? 0;
  const pool = new SessionPool<FakeConn>({
    maxSessions: options.maxSessions ?? 10,
    idleMs: options.idleMs ?? 60_000,
    open: async (session: DriverSessionSpec) => {
      if (failOpens-- > 0) throw new Error('init script failed');
      const conn = { id: opened.length + 1, session: session.sessionId, version: session.resourcesVersion, closed: false };
      opened.push(conn);
      return conn;
    },
    close: async (conn) => {
      conn.closed = true;
    },
  });
  const idOf = (session: DriverSessionSpec) => pool.run(session, async (conn) => conn.id);
  return { pool, opened, idOf };
}

/** Lets every pending promise callback run (the pool's bookkeeping is promise chains). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionPool', () => {
  it('keeps one connection per session while its resources stay the same', async () => {
    const { opened, idOf } = fakePool();
    expect([await idOf(sessionSpec('a')), await idOf(sessionSpec('a')), await idOf(sessionSpec('b'))]).toEqual([1, 1, 2]);
    expect(opened.map((c) => c.session)).toEqual(['a', 'b']);
  });

  it('opens a fresh connection for a new resourcesVersion and closes the old one after its work', async () => {
    const { pool, opened, idOf } = fakePool();
    const held = gate();
    const running = pool.run(sessionSpec('a', 'v1'), () => held.opened);
    expect(await idOf(sessionSpec('a', 'v2'))).toBe(2);
    expect(opened[0].closed).toBe(false);
    held.open();
    await running;
    await settle();
    expect(opened.map((c) => [c.version, c.closed])).toEqual([
      ['v1', true],
      ['v2', false],
    ]);
  });

  it('runs the work of one session one at a time, in order; other sessions do not wait', async () => {
    const { pool, idOf } = fakePool();
    const order: string[] = [];
    const held = gate();
    const first = pool.run(sessionSpec('a'), async () => {
      await held.opened;
      order.push('a1');
    });
    const second = pool.run(sessionSpec('a'), async () => void order.push('a2'));
    await idOf(sessionSpec('b'));
    order.push('b');
    held.open();
    await Promise.all([first, second]);
    expect(order).toEqual(['b', 'a1', 'a2']);
  });

  it('a failed statement does not stop the next one', async () => {
    const { pool, idOf } = fakePool();
    await expect(pool.run(sessionSpec('a'), () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await idOf(sessionSpec('a'))).toBe(1);
  });

  it('closes the least recently used sessions beyond maxSessions', async () => {
    const { pool, opened, idOf } = fakePool({ maxSessions: 2 });
    await idOf(sessionSpec('a'));
    await idOf(sessionSpec('b'));
    await idOf(sessionSpec('a'));
    await idOf(sessionSpec('c'));
    await settle();
    expect(opened.map((c) => [c.session, c.closed])).toEqual([
      ['a', false],
      ['b', true],
      ['c', false],
    ]);
    expect(pool.size).toBe(2);
  });

  it('closes a session idle for idleMs, and reopens it on next use', async () => {
    jest.useFakeTimers();
    try {
      const { opened, idOf } = fakePool({ idleMs: 1000 });
      await idOf(sessionSpec('a'));
      await jest.advanceTimersByTimeAsync(999);
      expect(opened[0].closed).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(opened[0].closed).toBe(true);
      expect(await idOf(sessionSpec('a'))).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not keep a connection that failed to open', async () => {
    const { pool, idOf } = fakePool({ failOpens: 1 });
    await expect(idOf(sessionSpec('a'))).rejects.toThrow('init script failed');
    await settle();
    expect(pool.size).toBe(0);
    expect(await idOf(sessionSpec('a'))).toBe(1);
  });

  it('runNow uses a short-lived connection while the session is busy, and the session connection when not', async () => {
    const { pool, opened } = fakePool();
    expect(await pool.runNow(sessionSpec('a'), async (c) => c.id)).toBe(1);
    const held = gate();
    const running = pool.run(sessionSpec('a'), () => held.opened);
    expect(await pool.runNow(sessionSpec('a'), async (c) => c.id)).toBe(2);
    expect(opened[1].closed).toBe(true);
    held.open();
    await running;
  });

  it('discards broken connections, and closes everything on close()', async () => {
    const { pool, opened, idOf } = fakePool();
    await idOf(sessionSpec('a'));
    await idOf(sessionSpec('b'));
    pool.discard((c) => c.session === 'a');
    expect(await idOf(sessionSpec('a'))).toBe(3);
    const held = gate();
    const running = pool.run(sessionSpec('b'), () => held.opened);
    await pool.close();
    expect(opened.every((c) => c.closed)).toBe(true);
    await expect(idOf(sessionSpec('a'))).rejects.toThrow('driver is closed');
    held.open();
    await running;
  });
});
