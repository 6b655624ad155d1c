import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confXml, LensClient, waitFor, type OpenedSession } from '@quarry/testing';
import { queryStatus, startQueryCluster, type QueryCluster } from './query-api';

const REGIONS_CSV = 'code,name\nemea,Europe\namer,Americas\n';

/**
 * Two users on one node's DuckDB: whatever the first one runs, the second one's query sees the
 * warehouse (the finding: mallory's CREATE OR REPLACE VIEW regions changed what ana's
 * SELECT * FROM regions returned, once the cost-based choice picked DuckDB).
 */
describe('DuckDB isolation between users', () => {
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-isolation-duck-'));
  let q: QueryCluster;
  let l1: LensClient;
  let mallory: OpenedSession;

  beforeAll(async () => {
    writeFileSync(join(duckdbDir, 'regions.csv'), REGIONS_CSV);
    q = await startQueryCluster({ QUARRY_DUCKDB_WAREHOUSE: duckdbDir });
    await q.warehouse.pool.query(`CREATE TABLE regions (code text PRIMARY KEY, name text); INSERT INTO regions VALUES ('emea', 'Europe'), ('amer', 'Americas')`);
    // Every query goes to L1, which runs it (a free slot, nobody waiting): one DuckDB host for both users.
    l1 = new LensClient(q.cluster.node('L1').url);
    mallory = await l1.open('mallory');
  });
  afterAll(async () => {
    await q?.stop();
    rmSync(duckdbDir, { recursive: true, force: true });
  });

  /** Submits; a refusal at submit or the query's end, as status and message. */
  const run = async (session: OpenedSession, query: string, conf: Record<string, string> = {}) => {
    const answer = await l1.request('POST', 'queryapi/queries', { form: { sessionid: session.xml, query, operation: 'EXECUTE', conf: confXml(conf) }, accept: 'application/json' });
    if (answer.status !== 200) return { status: `refused ${answer.status}`, handle: undefined };
    const handle = answer.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
    const status = await waitFor(`${handle} to end`, async () => {
      const s = await queryStatus(l1, session, handle);
      return ['SUCCESSFUL', 'FAILED', 'CANCELED'].includes(s.status) ? s : undefined;
    });
    return { status: status.status, handle };
  };
  const rows = async (session: OpenedSession, handle: string) =>
    (await l1.request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' }))
      .json<{ inMemoryQueryResult: { rows?: { values?: ({ value: unknown } | null)[] }[] } }>()
      .inMemoryQueryResult.rows?.map((r) => (r.values ?? []).map((cell) => cell?.value ?? null)) ?? [];

  it("one user's CREATE OR REPLACE VIEW / CREATE TABLE / CREATE MACRO cannot change what another user's query returns", async () => {
    const duckdb = { 'lens.query.driver': 'duckdb' };
    for (const ddl of [
      "CREATE OR REPLACE VIEW regions AS SELECT 'evil' AS code, 'evil' AS name",
      "CREATE TABLE regions AS SELECT 'evil' AS code, 'evil' AS name",
      "CREATE OR REPLACE MACRO upper(x) AS 'evil'",
      "COPY (SELECT 'evil' AS code, 'evil' AS name) TO 'regions.csv'",
    ]) {
      expect([ddl, (await run(mallory, ddl, duckdb)).status]).toEqual([ddl, expect.stringMatching(/FAILED|refused 400/)]);
    }
    // What mallory may create stays in mallory's own session.
    const own = await run(mallory, "CREATE TEMP VIEW regions AS SELECT 'evil' AS code, 'evil' AS name", duckdb);
    expect(own.status).toBe('SUCCESSFUL');
    const mine = await run(mallory, 'SELECT code FROM regions', duckdb);
    expect(await rows(mallory, mine.handle!)).toEqual([['evil']]);

    const ana = q.session;
    const chosen = await run(ana, 'SELECT code, upper(name) AS name FROM regions ORDER BY code');
    expect(chosen.status).toBe('SUCCESSFUL');
    expect(await rows(ana, chosen.handle!)).toEqual([['amer', 'AMERICAS'], ['emea', 'EUROPE']]);
    const onDuckDb = await run(ana, "SELECT code, upper(name) AS name FROM 'regions.csv' ORDER BY code", duckdb);
    expect(await rows(ana, onDuckDb.handle!)).toEqual([['amer', 'AMERICAS'], ['emea', 'EUROPE']]);
    expect([readdirSync(duckdbDir), readFileSync(join(duckdbDir, 'regions.csv'), 'utf8')]).toEqual([['regions.csv'], REGIONS_CSV]);
    const executors = await q.db.pool.query<{ node: string }>(`SELECT DISTINCT payload->>'executorNodeId' AS node FROM events WHERE type = 'QueryLaunched'`);
    expect(executors.rows).toEqual([{ node: 'L1' }]);
  });
});
