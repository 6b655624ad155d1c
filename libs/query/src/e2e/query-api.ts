import { expect } from '@jest/globals';
import { Cluster, createTestDatabase, createTestWarehouse, LensClient, testEnv, uniqueTopicPrefix, type OpenedSession, type TestDatabase, type TestWarehouse } from '@quarry/testing';
import type { Pool } from 'pg';

/** Test helpers for the Lens query API over the wire and the query streams, shared by the query e2e suites. */

export interface QueryEventRow {
  stream_id: string;
  type: string;
  payload: { attempt?: number; executorNodeId?: string; executorIncarnation?: string; incarnation?: string; nodeId?: string; reason?: string; takenOverBy?: string };
}

export async function submitQuery(client: LensClient, session: OpenedSession, query: string, extra: Record<string, string> = {}): Promise<string> {
  const answer = await client.request('POST', 'queryapi/queries', { form: { sessionid: session.xml, query, operation: 'EXECUTE', ...extra }, accept: 'application/json' });
  expect(answer.status).toBe(200);
  return answer.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
}

export async function queryStatus(client: LensClient, session: OpenedSession, handle: string) {
  const answer = await client.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json' });
  return answer.json<{ lensQuery: { status: { status: string; statusMessage?: string; errorMessage?: string; isResultSetAvailable?: boolean } } }>().lensQuery.status;
}

/** The first column of every row of an in-memory (or moved) result. */
export async function firstColumn(client: LensClient, session: OpenedSession, handle: string): Promise<number[]> {
  const answer = await client.request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
  expect(answer.status).toBe(200);
  return answer.json<{ inMemoryQueryResult: { rows: { values: { value: unknown }[] }[] } }>().inMemoryQueryResult.rows.map((r) => Number(r.values[0].value));
}

export async function queryEvents(pool: Pool, handle: string): Promise<QueryEventRow[]> {
  return (await pool.query<QueryEventRow>('SELECT stream_id, type, payload FROM events WHERE stream_id = $1 ORDER BY stream_version', [`query-${handle}`])).rows;
}

export const TERMINAL_EVENTS = ['QuerySucceeded', 'QueryFailed', 'QueryCanceled'];

/** Nodes (three unless said) behind the balancer on a database of their own, a warehouse for the pg driver, and a session of user `ana`. */
export interface QueryCluster {
  db: TestDatabase;
  warehouse: TestWarehouse;
  cluster: Cluster;
  lens: LensClient;
  session: OpenedSession;
  stop(): Promise<void>;
}

export async function startQueryCluster(env: Record<string, string>, options: { size?: number } = {}): Promise<QueryCluster> {
  const warehouse = await createTestWarehouse();
  const db = await createTestDatabase();
  const cluster = await Cluster.start({
    size: options.size,
    databaseUrl: db.url,
    kafkaBrokers: testEnv().kafkaBrokers,
    topicPrefix: uniqueTopicPrefix(),
    env: { QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl, QUARRY_MAX_SESSIONS_PER_USER: '50', ...env },
  }).catch(async (error: Error) => {
    await Promise.all([db.drop(), warehouse.drop()]);
    throw error;
  });
  const lens = new LensClient(cluster.balancerUrl);
  const session = await lens.open('ana');
  return {
    db,
    warehouse,
    cluster,
    lens,
    session,
    async stop() {
      await cluster.stop();
      await db.drop();
      await warehouse.drop();
    },
  };
}
