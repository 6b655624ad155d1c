import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confXml, createTestWarehouse, LensClient, startTestCluster, waitFor, type Cluster, type ClusterOptions, type LensAnswer, type OpenedSession, type TestDatabase } from '@quarry/testing';
import type { Pool } from 'pg';

/** Test helpers for the query and result API over the wire, shared by the result e2e suites. */

export { confXml };

/** Nodes that serve the API but run no queries: every query executes (and its result lives) on L1. */
export const SERVING_ONLY = 'gateway,session,query,result';

export interface StatusJson {
  status: string;
  isResultSetAvailable: boolean;
  statusMessage?: string;
  errorMessage?: string;
}

export async function submit(client: LensClient, session: OpenedSession, query: string, conf: Record<string, string> = {}): Promise<string> {
  const answer = await client.request('POST', 'queryapi/queries', {
    form: { sessionid: session.xml, query, operation: 'EXECUTE', conf: confXml(conf) },
    accept: 'application/json',
  });
  if (answer.status !== 200) throw new Error(`submit answered ${answer.status}: ${answer.text}`);
  return answer.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
}

export async function statusOf(client: LensClient, session: OpenedSession, handle: string): Promise<StatusJson> {
  const answer = await client.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json' });
  return answer.json<{ lensQuery: { status: StatusJson } }>().lensQuery.status;
}

/** Waits for SUCCESSFUL; a FAILED query fails the wait with its status. */
export function succeeded(client: LensClient, session: OpenedSession, handle: string, timeoutMs = 60_000): Promise<StatusJson> {
  return waitFor(
    `${handle} to succeed`,
    async () => {
      const status = await statusOf(client, session, handle);
      if (status.status === 'FAILED') throw new Error(JSON.stringify(status));
      return status.status === 'SUCCESSFUL' ? status : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

export function getResultset(client: LensClient, session: OpenedSession, handle: string, page: { fromindex?: string; fetchsize?: string } = {}, extra: { redirect?: 'manual'; timeoutMs?: number } = {}): Promise<LensAnswer> {
  return client.request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml, ...page }, accept: 'application/json', ...extra });
}

/** The plain values of an InMemoryQueryResult answer. */
export function rowsIn(answer: LensAnswer): unknown[][] {
  if (answer.status !== 200) throw new Error(`resultset answered ${answer.status}: ${answer.text}`);
  const rows = answer.json<{ inMemoryQueryResult: { rows?: { values?: ({ value: unknown } | null)[] }[] } }>().inMemoryQueryResult.rows ?? [];
  return rows.map((r) => (r.values ?? []).map((cell) => cell?.value ?? null));
}

/** The node that ran the query's latest attempt, from its events. */
export async function executorOf(pool: Pool, handle: string): Promise<string> {
  const { rows } = await pool.query<{ node: string }>(
    `SELECT payload->>'executorNodeId' AS node FROM events WHERE stream_id = $1 AND type = 'QueryLaunched' ORDER BY stream_version DESC LIMIT 1`,
    [`query-${handle}`],
  );
  return rows[0].node;
}

export { metricOf } from '@quarry/testing';

/** A cluster with a warehouse database and a result folder of its own, all removed by `stop`. */
export interface ResultCluster {
  db: TestDatabase;
  cluster: Cluster;
  resultDir: string;
  /** A client of one node by id (L1, L2, ...). */
  client(id: string): LensClient;
  stop(): Promise<void>;
}

export async function startResultCluster(options: Pick<ClusterOptions, 'size' | 'nodeTargets' | 'env' | 'nodeEnv' | 'balancerArgs' | 'routeResults'> & { kafkaBrokers?: string[] } = {}): Promise<ResultCluster> {
  const resultDir = mkdtempSync(join(tmpdir(), 'quarry-results-'));
  const warehouse = await createTestWarehouse();
  const running = await startTestCluster({ ...options, env: { QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl, QUARRY_RESULT_DIR: resultDir, ...options.env } }).catch(async (error: Error) => {
    await warehouse.drop();
    rmSync(resultDir, { recursive: true, force: true });
    throw error;
  });
  const { db, cluster } = running;
  return {
    db,
    cluster,
    resultDir,
    client: (id) => new LensClient(cluster.node(id).url),
    async stop() {
      await running.stop();
      await warehouse.drop();
      rmSync(resultDir, { recursive: true, force: true });
    },
  };
}
