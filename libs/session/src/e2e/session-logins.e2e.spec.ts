import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LensClient, startTestCluster, type LensAnswer, type TestCluster } from '@quarry/testing';
import { writeUsersFile } from './users-file';

/**
 * Failed logins limited per user name and per client address (each node keeps its own count),
 * two nodes behind the balancer with a users file. The balancer tells the nodes who the client
 * is (X-Forwarded-For); clients here differ by the loopback address they send from.
 */
describe('failed logins (two nodes, a users file)', () => {
  let stack: TestCluster;
  const dir = mkdtempSync(join(tmpdir(), 'quarry-logins-'));
  const password = 'correct horse battery staple';
  const from = (address: string) => new LensClient(stack.cluster.balancerUrl, { localAddress: address });
  const login = (client: LensClient, username: string, pass: string) => client.request('POST', 'session', { form: { username, password: pass } });

  beforeAll(async () => {
    stack = await startTestCluster({
      size: 2,
      env: {
        QUARRY_AUTH: 'file',
        QUARRY_USERS_FILE: writeUsersFile(dir, ['ana', 'eve', 'gus'], password),
        QUARRY_LOGIN_MAX_FAILURES_PER_USER: '3',
        QUARRY_LOGIN_MAX_FAILURES_PER_ADDRESS: '8',
        QUARRY_LOGIN_WINDOW_MS: '600000',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusedAsThrottled = (answer: LensAnswer) => {
    expect([answer.status, answer.errorCode]).toEqual([429, 9008]);
    const retryAfter = Number(answer.header('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 600).toBe(true);
    expect(answer.text).toContain('too many failed logins');
  };

  it('refuses a flood of bad logins with 429 and Retry-After, while another user from another address logs in', async () => {
    const attacker = from('127.0.0.1');
    // A burst at once: each node checks at most its limit of them; the rest are refused unhashed.
    const flood = await Promise.all(Array.from({ length: 60 }, (_, i) => login(attacker, i % 4 < 2 ? 'eve' : 'mallory', 'guess')));
    expect(flood.filter((a) => a.status !== 401 && a.status !== 429).map((a) => [a.status, a.text])).toEqual([]);
    // Per node, eve's 3 and mallory's 3 reach the password check (the address limit of 8 is not reached).
    expect(flood.filter((a) => a.status === 401).length).toBeLessThanOrEqual(12);
    expect(flood.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(48);
    for (const answer of flood.filter((a) => a.status === 429)) refusedAsThrottled(answer);

    // Eight more tries, four on each node: whatever each node counted so far, its last ones are refused.
    const more = [];
    for (let i = 0; i < 8; i++) more.push(await login(attacker, 'eve', 'guess'));
    expect(more.filter((a) => a.status === 401).length).toBeLessThanOrEqual(6);
    more.slice(-2).forEach(refusedAsThrottled);
    // Eve herself is refused too while her window lasts, wherever she comes from.
    refusedAsThrottled(await login(from('127.0.0.2'), 'eve', password));

    // Another user from another address is served, through both nodes.
    for (let i = 0; i < 2; i++) {
      const ana = await login(from('127.0.0.2'), 'ana', password);
      expect([ana.status, ana.text]).toEqual([200, expect.stringContaining('<lensSessionHandle>')]);
    }
    const opened = await stack.db.pool.query<{ user_name: string }>('SELECT user_name FROM open_sessions');
    expect(opened.rows.map((r) => r.user_name)).toEqual(['ana', 'ana']);
  });

  it('answers an unknown user exactly as a wrong password, before and after the limit', async () => {
    const client = from('127.0.0.3');
    const alike = (answer: LensAnswer, userName: string) => ({
      status: answer.status,
      code: answer.errorCode,
      text: answer.text.replaceAll(userName, '<user>'),
      type: answer.header('content-type'),
      retryAfter: answer.header('retry-after') !== undefined,
    });
    const rounds = [];
    for (let i = 0; i < 5; i++) {
      const wrongPassword = alike(await login(client, 'gus', 'guess'), 'gus');
      const unknownUser = alike(await login(client, 'nobody', 'guess'), 'nobody');
      expect(unknownUser).toEqual(wrongPassword);
      rounds.push(wrongPassword.status);
    }
    // Each user's three tries per node end in 401; then both are refused alike.
    expect(rounds.slice(0, 3)).toEqual([401, 401, 401]);
    expect(rounds.slice(3)).toEqual([429, 429]);
  });
});
