import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, createTestDatabase, LensClient, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import { writeUsersFile } from './users-file';

describe('sessions with a users file and a short idle timeout (two nodes)', () => {
  let db: TestDatabase;
  let cluster: Cluster;
  let lens: LensClient;
  const dir = mkdtempSync(join(tmpdir(), 'quarry-auth-'));
  const password = 'correct horse battery staple';

  const events = async (where: string, values: unknown[]) =>
    (await db.pool.query<{ type: string; stream_id: string }>(`SELECT type, stream_id FROM events WHERE ${where} ORDER BY global_position`, values)).rows;

  beforeAll(async () => {
    const usersFile = writeUsersFile(dir, ['ana', 'eve'], password);
    db = await createTestDatabase();
    cluster = await Cluster.start({
      size: 2,
      databaseUrl: db.url,
      kafkaBrokers: testEnv().kafkaBrokers,
      topicPrefix: uniqueTopicPrefix(),
      env: {
        QUARRY_AUTH: 'file',
        QUARRY_USERS_FILE: usersFile,
        QUARRY_SESSION_IDLE_TIMEOUT_MS: '1500',
        QUARRY_SESSION_EXPIRY_CHECK_MS: '100',
      },
    });
    lens = new LensClient(cluster.balancerUrl);
  });

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a session for the right password only; a wrong one is 401 and opens nothing', async () => {
    expect((await lens.open('ana', { password })).publicId).toMatch(/^[0-9a-f-]{36}$/);
    const wrong = await lens.request('POST', 'session', { form: { username: 'eve', password: 'guess' } });
    const unknownUser = await lens.request('POST', 'session', { form: { username: 'mallory', password } });
    expect([wrong.status, wrong.errorCode, wrong.text]).toEqual([401, 9001, 'wrong user name or password for eve']);
    expect([unknownUser.status, unknownUser.errorCode]).toEqual([401, 9001]);
    expect(await events(`payload->>'userName' IN ('eve', 'mallory')`, [])).toEqual([]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM open_sessions WHERE user_name IN ('eve', 'mallory')`)).rows[0].n).toBe(0);
  });

  it('never stores or logs a password in clear', async () => {
    const inEvents = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE payload::text LIKE $1`, [`%${password}%`]);
    expect(inEvents.rows[0].n).toBe(0);
    for (const node of cluster.nodes) expect(node.process.allLines().some((l) => l.includes(password) || l.includes('guess'))).toBe(false);
  });

  it('expires an idle session once, by one node, and keeps an active one open', async () => {
    const idle = await lens.open('ana', { password });
    const active = await lens.open('ana', { password });
    const expired = await waitFor(
      'the idle session to expire',
      async () => {
        // Using the active session keeps it alive; the idle one is left alone.
        expect((await lens.setParam(active, 'tick', String(Date.now()))).status).toBe(200);
        const rows = await events(`stream_id = $1 AND type = 'SessionExpired'`, [`session-${idle.publicId}`]);
        return rows.length > 0 ? rows : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(expired).toHaveLength(1);
    const answer = await lens.params(idle);
    expect([answer.status, answer.errorCode, answer.text]).toEqual([410, 2005, 'session is expired']);
    expect((await lens.params(active)).status).toBe(200);
    expect(await events(`stream_id = $1 AND type = 'SessionExpired'`, [`session-${active.publicId}`])).toEqual([]);
    // Its reservation went with it, so later passes have nothing left to expire.
    const reserved = await db.pool.query('SELECT public_id FROM open_sessions WHERE public_id = ANY($1::uuid[])', [[idle.publicId, active.publicId]]);
    expect(reserved.rows).toEqual([{ public_id: active.publicId }]);
  });
});
