import { createTestWarehouse, testEnv, withClient, type TestWarehouse } from '@quarry/testing';
import { CollectingSink, rowsOf, sessionSpec } from '../test-support/sessions';
import { PgDriver, type PgDriverOptions } from './pg-driver';

/** What the pg driver refuses whatever the query says: writes, long runs, privileged roles, other users' roles. */
describe('PgDriver limits (real PostgreSQL, a reader role)', () => {
  let db: TestWarehouse;
  const drivers: PgDriver[] = [];
  /** Roles a test made; roles are the whole server's, so each is dropped again. */
  const roles: string[] = [];

  const driverOn = (url: string, options: Partial<PgDriverOptions> = {}) => {
    const driver = new PgDriver('pg', { warehouseUrl: url, ...options });
    drivers.push(driver);
    return driver;
  };
  const failureOf = (driver: PgDriver, session: ReturnType<typeof sessionSpec>, sql: string) =>
    driver.execute(session, sql, new CollectingSink()).done.then(
      () => 'succeeded',
      (error: Error) => error.message,
    );
  const admin = (sql: string) => db.pool.query(sql);
  const role = async (suffix: string, attributes = 'NOLOGIN') => {
    const name = `${db.name}_${suffix}`;
    await admin(`CREATE ROLE ${name} ${attributes}`);
    roles.push(name);
    return name;
  };
  const largeObjects = async () => Number((await admin('SELECT count(*) AS n FROM pg_largeobject_metadata')).rows[0].n);

  beforeAll(async () => {
    db = await createTestWarehouse();
    await admin('CREATE TABLE shared (n int); INSERT INTO shared VALUES (1), (2)');
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    await db.drop();
    await withClient(testEnv().adminUrl, async (client) => {
      for (const name of roles) await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(name)}`);
    });
  });

  it('runs every query in a read-only transaction, whatever the query sets for later ones', async () => {
    const driver = driverOn(db.readerUrl);
    const session = sessionSpec('writer');
    expect(await rowsOf(driver, session, 'SELECT sum(n) FROM shared')).toEqual([['3']]);
    expect(await failureOf(driver, session, "SELECT lo_from_bytea(0, 'x')")).toBe('permission denied for function lo_from_bytea');
    expect(await failureOf(driver, session, 'CREATE TABLE t (n int)')).toMatch(/^syntax error/);
    expect(await failureOf(driver, session, "SELECT set_config('transaction_read_only', 'off', true)")).toBe('transaction read-write mode must be set before any query');
    // Session settings a query changes hold for later implicit transactions, not for the driver's own.
    expect(await rowsOf(driver, session, "SELECT set_config('default_transaction_read_only', 'off', false)")).toEqual([['off']]);
    expect(await rowsOf(driver, session, "SELECT current_setting('transaction_read_only')")).toEqual([['on']]);
    const csv = driver.exportCsv(session, "SELECT lo_from_bytea(0, 'x')", { columns: () => undefined, write: async () => undefined }, { header: false });
    await expect(csv.done).rejects.toThrow('permission denied for function lo_from_bytea');
    // What read-only lets through on PostgreSQL 15 (a large object, for a role still allowed to make
    // one) is rolled back with the query's transaction.
    await admin(`GRANT EXECUTE ON FUNCTION lo_create(oid) TO ${db.readerRole}`);
    expect(await rowsOf(driver, session, 'SELECT lo_create(0) > 0')).toEqual([[true]]);
    expect(await largeObjects()).toBe(0);
  });

  it('ends a query that runs past the statement timeout, naming the setting, even one that lifts PostgreSQL\'s own limit', async () => {
    const driver = driverOn(db.readerUrl, { statementTimeoutMs: 500, fetchRows: 1 });
    const session = sessionSpec('slow');
    expect(await failureOf(driver, session, 'SELECT pg_sleep(30)')).toBe('canceling statement due to statement timeout (QUARRY_PG_STATEMENT_TIMEOUT_MS=500)');
    // Each FETCH is a statement of its own: after the first, PostgreSQL's limit is gone; the driver's holds.
    const lifted = "SELECT set_config('statement_timeout', '0', true), pg_sleep(0.3) FROM generate_series(1, 20)";
    expect(await failureOf(driver, session, lifted)).toBe('canceling statement due to statement timeout (QUARRY_PG_STATEMENT_TIMEOUT_MS=500)');
    // A session-wide change does not reach the next transaction.
    expect(await rowsOf(driver, session, "SELECT set_config('statement_timeout', '0', false)")).toEqual([['0']]);
    expect(await rowsOf(driver, session, "SELECT current_setting('statement_timeout')")).toEqual([['500ms']]);
    expect(await failureOf(driver, sessionSpec('slow-script', 'v1', { 'wait.sql': 'SELECT pg_sleep(30)' }), 'SELECT 1')).toBe(
      'init script wait.sql: canceling statement due to statement timeout (QUARRY_PG_STATEMENT_TIMEOUT_MS=500)',
    );
  });

  it('refuses a .sql session script that writes, even one that ends the read-only transaction first', async () => {
    const driver = driverOn(db.readerUrl);
    expect(await failureOf(driver, sessionSpec('lo', 'v1', { 'lo.sql': "SELECT lo_from_bytea(0, 'x');" }), 'SELECT 1')).toBe(
      'init script lo.sql: permission denied for function lo_from_bytea',
    );
    expect(await failureOf(driver, sessionSpec('sequence', 'v1', { 'seq.sql': 'CREATE SEQUENCE s' }), 'SELECT 1')).toBe(
      'init script seq.sql: cannot execute CREATE SEQUENCE in a read-only transaction',
    );
    expect(await failureOf(driver, sessionSpec('commit', 'v1', { 'commit.sql': "COMMIT; SELECT lo_from_bytea(0, 'x');" }), 'SELECT 1')).toBe(
      'init script commit.sql: EXECUTE of transaction commands is not implemented',
    );
    expect(await failureOf(driver, sessionSpec('temp', 'v1', { 'temp.sql': 'CREATE TEMP TABLE t (n int)' }), 'SELECT 1')).toBe(
      'init script temp.sql: cannot execute CREATE TABLE in a read-only transaction',
    );
    expect(await largeObjects()).toBe(0);
  });

  it('refuses a superuser role or a member of pg_read_server_files, unless told to allow it; a server files reader is named', async () => {
    const superuser = driverOn(db.url);
    const refusal = /^the warehouse role "postgres" is privileged \(a superuser\): .* or set QUARRY_PG_ALLOW_PRIVILEGED=true$/;
    expect(await failureOf(superuser, sessionSpec('super'), 'SELECT 1')).toMatch(refusal);
    await expect(superuser.explain(sessionSpec('super'), 'SELECT 1')).rejects.toThrow(refusal);
    expect(await superuser.checkRole()).toMatchObject({ state: 'checked', role: { login: 'postgres' }, refusal: expect.stringMatching(refusal) });
    expect(await rowsOf(driverOn(db.url, { allowPrivileged: true }), sessionSpec('allowed'), 'SELECT 1')).toEqual([[1]]);

    const reader = await role('files', 'LOGIN');
    await admin(`GRANT CONNECT ON DATABASE ${db.name} TO ${reader}; GRANT pg_read_server_files TO ${reader}`);
    const files = driverOn(Object.assign(new URL(db.readerUrl), { username: reader }).toString());
    expect(await failureOf(files, sessionSpec('files'), 'SELECT 1')).toMatch(/^the warehouse role "\w+" is privileged \(member of pg_read_server_files\)/);

    expect(await driverOn(db.readerUrl).checkRole()).toMatchObject({ state: 'checked', role: { privileges: '' }, refusal: undefined });
    const nowhere = Object.assign(new URL(db.readerUrl), { pathname: `/${db.name}_missing` }).toString();
    expect(await driverOn(nowhere).checkRole()).toMatchObject({ state: 'unreachable', reason: expect.stringContaining('does not exist') });
  });

  describe('with a warehouse role per user (QUARRY_PG_ROLE_PER_USER)', () => {
    let ana: string;
    let bo: string;
    let driver: PgDriver;
    const as = (user: string, id = user, scripts: Record<string, string> = {}) => ({ ...sessionSpec(id, 'v1', scripts), user });

    beforeAll(async () => {
      [ana, bo] = [await role('ana'), await role('bo')];
      await admin(`CREATE TABLE ana_only (secret text); INSERT INTO ana_only VALUES ('for ana');
        CREATE TABLE bo_only (secret text); INSERT INTO bo_only VALUES ('for bo');
        REVOKE SELECT ON ana_only, bo_only FROM ${db.readerRole};
        GRANT SELECT ON ana_only TO ${ana}; GRANT SELECT ON bo_only TO ${bo};
        GRANT ${ana}, ${bo} TO ${db.readerRole}`);
      driver = driverOn(db.readerUrl, { rolePerUser: true });
    });

    it('refuses to run while any role may call set_config() (it switches roles within one statement)', async () => {
      expect(await failureOf(driver, as(ana, 'early'), 'SELECT 1')).toMatch(/^QUARRY_PG_ROLE_PER_USER=true needs set_config\(\) revoked .*FROM PUBLIC\)/);
      await admin('REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC');
      expect(await rowsOf(driver, as(ana, 'early'), 'SELECT current_user')).toEqual([[ana]]);
    });

    it('reads as the user\'s role: ana cannot read bo\'s table, whatever she tries with set_config', async () => {
      expect(await rowsOf(driver, as(ana), 'SELECT secret FROM ana_only')).toEqual([['for ana']]);
      expect(await failureOf(driver, as(ana), 'SELECT secret FROM bo_only')).toBe('permission denied for table bo_only');
      expect(await failureOf(driver, as(ana), `SELECT set_config('role', '${bo}', false)`)).toBe('permission denied for function set_config');
      expect(await failureOf(driver, as(ana), `SELECT set_config('role', '${bo}', true), query_to_xml('SELECT * FROM bo_only', true, false, '')`)).toBe(
        'permission denied for function set_config',
      );
      expect(await failureOf(driver, as(ana), 'SELECT secret FROM bo_only')).toBe('permission denied for table bo_only');
      await expect(driver.explain(as(ana), 'SELECT * FROM bo_only')).rejects.toThrow('permission denied for table bo_only');
      const csv = driver.exportCsv(as(ana), 'SELECT secret FROM bo_only', { columns: () => undefined, write: async () => undefined }, { header: false });
      await expect(csv.done).rejects.toThrow('permission denied for table bo_only');
      expect(await rowsOf(driver, as(bo), 'SELECT secret FROM bo_only')).toEqual([['for bo']]);
      // Tables only the login role may read are not the users'.
      expect(await failureOf(driver, as(bo), 'SELECT n FROM shared')).toBe('permission denied for table shared');
    });

    it('shares connections among one user\'s sessions only: a connection set to one user\'s role never serves another user', async () => {
      const backendOf = async (user: string, id: string) => (await rowsOf(driver, as(user, id), 'SELECT pg_backend_pid(), current_user'))[0];
      const [ana1, ana2] = [await backendOf(ana, 'ana-1'), await backendOf(ana, 'ana-2')];
      const [bo1, bo2] = [await backendOf(bo, 'bo-1'), await backendOf(bo, 'bo-2')];
      // One after another, each user's sessions reuse that user's connection; the users never share one.
      expect([ana1, ana2, bo1, bo2].map(([, user]) => user)).toEqual([ana, ana, bo, bo]);
      expect(ana2[0]).toBe(ana1[0]);
      expect(bo2[0]).toBe(bo1[0]);
      expect(bo1[0]).not.toBe(ana1[0]);
      // Plans too run as the session's user, right after the other user's on the pool.
      expect((await driver.explain(as(bo, 'bo-3'), 'SELECT * FROM bo_only')).tablesQueried).toEqual(['bo_only']);
      await expect(driver.explain(as(ana, 'ana-3'), 'SELECT * FROM bo_only')).rejects.toThrow('permission denied for table bo_only');
    });

    it('refuses a user with no role of their own, and any .sql script (it could SET ROLE)', async () => {
      expect(await failureOf(driver, as('nobody-here'), 'SELECT 1')).toBe('no warehouse role for user nobody-here: role "nobody-here" does not exist');
      expect(await failureOf(driver, as(ana, 'scripted', { 'role.sql': `SET ROLE ${bo}` }), 'SELECT 1')).toBe('init scripts cannot run with QUARRY_PG_ROLE_PER_USER=true (role.sql)');
    });
  });
});
