import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, createTestDatabase, elementsOf, LensClient, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';

/**
 * LENS-658's session scenario and its failure cases, with three node processes behind the
 * round-robin balancer, a real Kafka and PostgreSQL.
 */
describe('sessions across a three-node cluster', () => {
  let db: TestDatabase;
  let cluster: Cluster;
  let balancer: LensClient;
  let nodes: Record<string, LensClient>;
  const roots = mkdtempSync(join(tmpdir(), 'quarry-resources-'));
  const outside = mkdtempSync(join(tmpdir(), 'quarry-outside-'));

  const streamOf = async (publicId: string) =>
    (await db.pool.query<{ type: string; node_id: string }>(`SELECT type, node_id FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`session-${publicId}`])).rows;

  beforeAll(async () => {
    writeFileSync(join(roots, 'udf.jar'), 'not really a jar');
    writeFileSync(join(roots, 'init.sql'), 'CREATE FUNCTION pg_temp.twice(x int) RETURNS int AS $$ SELECT 2 * x $$ LANGUAGE sql;');
    writeFileSync(join(outside, 'secret.txt'), 'keep out');
    db = await createTestDatabase();
    cluster = await Cluster.start({
      databaseUrl: db.url,
      kafkaBrokers: testEnv().kafkaBrokers,
      topicPrefix: uniqueTopicPrefix(),
      env: { QUARRY_RESOURCE_ROOTS: roots, QUARRY_MAX_SESSIONS_PER_USER: '10', QUARRY_ADMIN_TOKEN: 'admin-secret' },
    });
    balancer = new LensClient(cluster.balancerUrl);
    nodes = Object.fromEntries(cluster.nodes.map((n) => [n.options.nodeId, new LensClient(n.url)]));
  });

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    rmSync(roots, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('opens on one node, sets a parameter on the next, adds a resource on the third; every node agrees at once', async () => {
    const session = await balancer.open('ana', { database: 'sales' });
    expect((await balancer.setParam(session, 'lens.query.priority', 'HIGH')).status).toBe(200);
    expect((await balancer.addResource(session, 'jar', join(roots, 'udf.jar'))).status).toBe(200);

    // Three calls through the balancer were served by three different nodes.
    const writers = (await streamOf(session.publicId)).map((e) => [e.type, e.node_id]);
    expect(writers.map(([type]) => type)).toEqual(['SessionOpened', 'SessionParamSet', 'JarAdded']);
    expect(new Set(writers.map(([, node]) => node)).size).toBe(3);

    for (const [id, node] of Object.entries(nodes)) {
      expect([id, elementsOf(await node.params(session, 'lens.query.priority'))]).toEqual([id, ['lens.query.priority=HIGH']]);
      expect([id, elementsOf(await node.listResources(session))]).toEqual([id, [`jar:${join(roots, 'udf.jar')}`]]);
      const current = await node.request('GET', 'metastore/databases/current', { query: { sessionid: session.xml } });
      expect([id, current.text]).toEqual([id, 'sales']);
    }
  });

  it('serves a session first try on a node that never saw it, the JSON handle too', async () => {
    const session = await nodes['L1'].open('ana');
    const json = JSON.stringify({ lensSessionHandle: { publicId: session.publicId, secretId: session.secretId } });
    const answer = await nodes['L3'].request('GET', 'session/params', { query: { sessionid: json, key: 'lens.query.output.write.header' }, accept: 'application/json' });
    expect(answer.status).toBe(200);
    expect(elementsOf(answer)).toEqual(['lens.query.output.write.header=false']);
    // A part sent with its own Content-Type, as the Java client does, reads the same.
    const typed = await nodes['L2'].request('PUT', 'session/params', {
      form: { sessionid: { value: session.xml, contentType: 'application/xml' }, key: 'k', value: { value: 'v', contentType: 'text/plain' } },
    });
    expect(typed.status).toBe(200);
  });

  it('answers GET params ahead of Express (ADR 17) with the same status, headers and body as through Express', async () => {
    const session = await balancer.open('ana');
    await balancer.setParam(session, 'k', 'v <&> é');
    // What a node answers, all headers but the date; a validator that matches nothing sends the request the full way.
    const answer = async (query: Record<string, string>, headers: Record<string, string>) => {
      const url = new URL(`${cluster.nodes[0].url}/lensapi/session/params`);
      for (const [k, v] of Object.entries({ sessionid: session.xml, ...query })) url.searchParams.set(k, v);
      const response = await fetch(url, { headers });
      const all = Object.fromEntries([...response.headers].filter(([name]) => name !== 'date'));
      return { status: response.status, headers: all, body: await response.text() };
    };
    const fullWay = { 'if-none-match': '"no such tag"' };
    for (const accept of [undefined, 'application/json', 'application/xml', 'text/csv']) {
      for (const query of [{}, { key: 'k' }, { verbose: 'true' }, { key: 'no.such.key' }]) {
        const headers = accept ? { accept } : {};
        const fast = await answer(query, headers);
        expect([accept, query, fast]).toEqual([accept, query, await answer(query, { ...headers, ...fullWay })]);
      }
    }
    expect((await answer({ key: 'k' }, { accept: 'application/json' })).headers).toMatchObject({
      'x-powered-by': 'Express',
      'content-type': 'application/json; charset=utf-8',
      etag: expect.stringMatching(/^W\//),
    });
  });

  it('closes through one node; the very next request on each other node is 410 with code 2005', async () => {
    const session = await balancer.open('ana');
    await balancer.setParam(session, 'a', 'b');
    expect((await nodes['L2'].close(session)).status).toBe(200);
    for (const id of ['L1', 'L3']) {
      const params = await nodes[id].params(session);
      expect([id, params.status, params.errorCode]).toEqual([id, 410, 2005]);
      const set = await nodes[id].setParam(session, 'a', 'c');
      expect([id, set.status, set.json()]).toEqual([id, 410, { apiResult: { status: 'FAILED', message: 'session is closed' } }]);
    }
  });

  it('refuses bad input with a clear 4xx and leaves the session as it was', async () => {
    const session = await balancer.open('ana');
    await balancer.setParam(session, 'kept', 'yes');
    const before = await streamOf(session.publicId);
    const wrongSecret = session.xml.replace(session.secretId, '00000000-0000-4000-8000-000000000000');
    const unknown = session.xml.replace(session.publicId, '00000000-0000-4000-8000-000000000000');

    const answers = {
      missingSessionId: await balancer.request('GET', 'session/params'),
      garbledSessionId: await balancer.request('GET', 'session/params', { query: { sessionid: '<lensSessionHandle><publicId>nope' } }),
      wrongSecret: await balancer.params({ xml: wrongSecret }),
      unknownSession: await balancer.params({ xml: unknown }),
      wrongSecretWrite: await balancer.setParam({ xml: wrongSecret }, 'kept', 'no'),
      outsideRoots: await balancer.addResource(session, 'file', join(outside, 'secret.txt')),
      dotDot: await balancer.addResource(session, 'file', `${roots}/../${outside.split('/').pop()}/secret.txt`),
      missingFile: await balancer.addResource(session, 'jar', join(roots, 'absent.jar')),
      badType: await balancer.addResource(session, 'exe', join(roots, 'udf.jar')),
      hugeValue: await balancer.setParam(session, 'kept', 'x'.repeat(20_000)),
      unknownKey: await balancer.params(session, 'no.such.key'),
      unacceptable: await balancer.request('GET', 'session/params', { query: { sessionid: session.xml }, accept: 'text/csv' }),
      badConf: await balancer.request('POST', 'session', { form: { username: 'ana', sessionconf: { value: '<conf><properties>', contentType: 'application/xml' } } }),
      noUser: await balancer.request('POST', 'session', { form: { password: 'x' } }),
    };
    const summary = Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, [a.status, a.errorCode]]));
    expect(summary).toEqual({
      missingSessionId: [400, 2001],
      garbledSessionId: [400, 2001],
      wrongSecret: [410, 2005],
      unknownSession: [410, 2005],
      wrongSecretWrite: [410, 2005],
      outsideRoots: [400, 1006],
      dotDot: [400, 1006],
      missingFile: [400, 1006],
      badType: [400, 1006],
      hugeValue: [400, 1006],
      unknownKey: [404, 1003],
      unacceptable: [406, undefined],
      badConf: [400, 1006],
      noUser: [400, 1005],
    });
    expect(answers.outsideRoots.json()).toEqual({ apiResult: { status: 'FAILED', message: expect.stringContaining('outside the resource roots') } });
    expect(answers.hugeValue.text).toContain('the limit is 16384');

    expect(await streamOf(session.publicId)).toEqual(before);
    expect(elementsOf(await balancer.params(session, 'kept'))).toEqual(['kept=yes']);
    expect(elementsOf(await balancer.listResources(session))).toEqual([]);
  });

  it('lets a user see only their own sessions, and the admin token see all', async () => {
    const ana = await balancer.open('ana');
    const bob = await balancer.open('bob');
    const users = async (answer: Promise<{ json: <T>() => T }>) =>
      new Set((await answer).json<{ userSessionInfo: { userName: string; handle: string } }[]>().map((s) => s.userSessionInfo.userName));
    expect(await users(balancer.request('GET', 'session/sessions', { query: { sessionid: ana.xml }, accept: 'application/json' }))).toEqual(new Set(['ana']));
    expect(await users(balancer.request('GET', 'session/sessions', { query: { sessionid: bob.xml }, accept: 'application/json' }))).toEqual(new Set(['bob']));
    const admin = balancer.request('GET', 'session/sessions', { accept: 'application/json', headers: { authorization: 'Bearer admin-secret' } });
    expect(await users(admin)).toEqual(new Set(['ana', 'bob']));
    expect((await balancer.request('GET', 'session/sessions', { headers: { authorization: 'Bearer wrong' } })).status).toBe(400);
  });

  it('holds the per-user limit across nodes: of 14 concurrent opens for a new user, exactly 10 succeed', async () => {
    const answers = await Promise.all(Array.from({ length: 14 }, () => balancer.request('POST', 'session', { form: { username: 'carol', password: '' } })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 429).map((a) => a.errorCode)).toEqual([2004, 2004, 2004, 2004]);
    expect(answers.find((a) => a.status === 429)!.text).toContain('already has 10 open sessions');
    const open = await db.pool.query(`SELECT count(*)::int AS n FROM open_sessions WHERE user_name = 'carol'`);
    expect(open.rows[0].n).toBe(10);
  });

  it('keeps a session usable after the node that opened it is SIGKILLed', async () => {
    const session = await balancer.open('dave');
    await balancer.setParam(session, 'before', 'kill');
    const [opened] = await streamOf(session.publicId);
    await cluster.node(opened.node_id).sigkill();

    for (let i = 0; i < 6; i++) {
      expect((await balancer.setParam(session, `after${i}`, 'kill')).status).toBe(200);
    }
    const params = elementsOf(await balancer.params(session));
    expect(params).toEqual(expect.arrayContaining(['before=kill', 'after0=kill', 'after5=kill']));
    await waitFor('the sessions projection to catch up', async () => {
      const row = await db.pool.query(`SELECT params FROM sessions WHERE public_id = $1`, [session.publicId]);
      return row.rows[0]?.params?.after5 === 'kill';
    });
  });
});
