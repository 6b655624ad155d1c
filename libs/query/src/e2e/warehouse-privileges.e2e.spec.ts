import { confXml, waitFor } from '@quarry/testing';
import { queryStatus, startQueryCluster, submitQuery, type QueryCluster } from './query-api';

/**
 * What a user's SQL may do on the pg warehouse through a running cluster, as the test kit's
 * reader role: read the tables, nothing of the server's files, no writes, no other role, not for long.
 */
describe('the pg warehouse through the cluster: a reader role, read-only, time-limited', () => {
  let qc: QueryCluster;

  beforeAll(async () => {
    qc = await startQueryCluster({ QUARRY_PG_STATEMENT_TIMEOUT_MS: '3000' });
    await qc.warehouse.pool.query(`CREATE TABLE sales AS SELECT g AS id, g * 2 AS amount FROM generate_series(1, 10) g`);
  });
  afterAll(async () => {
    await qc?.stop();
  });

  const submit = (query: string) =>
    qc.lens.request('POST', 'queryapi/queries', {
      form: { sessionid: qc.session.xml, query, operation: 'EXECUTE', conf: confXml({ 'lens.query.driver': 'pg' }) },
      accept: 'application/json',
    });

  /** Runs `query` on the pg driver and waits until it ends; its final status. */
  const ended = async (query: string) => {
    const handle = await submitQuery(qc.lens, qc.session, query, { conf: confXml({ 'lens.query.driver': 'pg' }) });
    return waitFor(`${query} to end`, async () => {
      const status = await queryStatus(qc.lens, qc.session, handle);
      return ['SUCCESSFUL', 'FAILED', 'CANCELED'].includes(status.status) ? status : undefined;
    });
  };

  it('reads the warehouse tables', async () => {
    expect(await ended('SELECT sum(amount) FROM sales')).toMatchObject({ status: 'SUCCESSFUL' });
  });

  // Planning checks function privileges, so these never run: refused at submit with the engine's message.
  it.each([
    ["SELECT pg_read_file('/etc/passwd')", 'permission denied for function pg_read_file'],
    ["SELECT pg_ls_dir('/')", 'permission denied for function pg_ls_dir'],
    ["SELECT lo_from_bytea(0, 'x')", 'permission denied for function lo_from_bytea'],
  ])('%s is refused at submit (400) with the engine\'s message', async (query, message) => {
    const refused = await submit(query);
    expect(refused.status).toBe(400);
    expect(refused.json<{ lensAPIResult: { error: { message: string } } }>().lensAPIResult.error.message).toContain(message);
  });

  it.each([
    ["SELECT set_config('role', 'postgres', false)", 'permission denied to set role "postgres"'],
    ['SELECT pg_sleep(30)', 'canceling statement due to statement timeout (QUARRY_PG_STATEMENT_TIMEOUT_MS=3000)'],
  ])('%s ends FAILED with the engine\'s message', async (query, message) => {
    const status = await ended(query);
    expect(status.status).toBe('FAILED');
    expect(status.errorMessage).toContain(message);
  });

  it('leaves no large object in the warehouse', async () => {
    expect((await qc.warehouse.pool.query('SELECT count(*)::int AS n FROM pg_largeobject_metadata')).rows[0].n).toBe(0);
  });
});
