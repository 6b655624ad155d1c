import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestWarehouse, freePort, LensClient, REPO_ROOT, startTestCluster, waitFor, type TestCluster, type TestWarehouse } from '@quarry/testing';
import { writeUsersFile } from '../../../../libs/session/src/e2e/users-file';
import { CliInTerminal, QUARRY_BIN, runCli } from './cli-process';

/**
 * The `quarry` CLI driven as a user drives it, against two real nodes behind the balancer with a
 * users file: as a child process for output formats and exit codes, and in a pseudo-terminal
 * (util-linux `script`) for the live progress line and Ctrl-C.
 */
describe('the quarry CLI (two nodes behind the balancer)', () => {
  let stack: TestCluster;
  let warehouse: TestWarehouse;
  const dir = mkdtempSync(join(tmpdir(), 'quarry-cli-'));
  const password = 'correct horse battery staple';
  let configHomes = 0;

  /** The environment of a user with a config directory of their own (fresh unless given). */
  const userEnv = (configHome = join(dir, `config-${++configHomes}`), extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: process.env['PATH'],
    HOME: dir,
    XDG_CONFIG_HOME: configHome,
    QUARRY_SERVER: stack.cluster.balancerUrl,
    QUARRY_USER: 'ana',
    QUARRY_PASSWORD: password,
    ...extra,
  });
  const configOf = (env: NodeJS.ProcessEnv) => join(env['XDG_CONFIG_HOME']!, 'quarry', 'config.json');
  const savedSession = (env: NodeJS.ProcessEnv) => JSON.parse(readFileSync(configOf(env), 'utf8')).sessions[stack.cluster.balancerUrl];
  const oneLine = (text: string) => text.trimEnd().split('\n');

  beforeAll(async () => {
    // What `npx quarry` does on first use after npm ci: compile the CLI.
    execFileSync(process.execPath, [QUARRY_BIN, '--build-only'], { cwd: REPO_ROOT, stdio: 'ignore' });
    mkdirSync(join(dir, 'resources'));
    writeFileSync(join(dir, 'resources', 'lookup.csv'), 'a,b\n');
    warehouse = await createTestWarehouse();
    stack = await startTestCluster({
      size: 2,
      env: {
        QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
        QUARRY_AUTH: 'file',
        QUARRY_USERS_FILE: writeUsersFile(dir, ['ana'], password),
        QUARRY_RESOURCE_ROOTS: join(dir, 'resources'),
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await warehouse?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a query and prints its rows as csv, json and a table, reusing the session it saved (0600)', async () => {
    const env = userEnv();
    const sql = "SELECT k, k * 2 AS twice, CASE WHEN k = 2 THEN NULL ELSE 'a,\"b\"' END AS t FROM generate_series(1, 3) k";

    const csv = await runCli(['query', 'run', sql, '--format', 'csv'], env);
    expect(csv).toMatchObject({ code: 0, stdout: 'k,twice,t\n1,2,"a,""b"""\n2,4,\n3,6,"a,""b"""\n' });
    expect(oneLine(csv.stderr)).toEqual([expect.stringMatching(/^quarry: query [0-9a-f-]{36} SUCCESSFUL in [\d.]+ s, 3 rows$/)]);
    expect(statSync(configOf(env)).mode & 0o777).toBe(0o600);
    const session = savedSession(env);
    expect(session).toMatchObject({ user: 'ana', publicId: expect.any(String), secretId: expect.any(String) });

    const json = await runCli(['query', 'run', sql, '-f', 'json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { k: 1, twice: 2, t: 'a,"b"' },
      { k: 2, twice: 4, t: null },
      { k: 3, twice: 6, t: 'a,"b"' },
    ]);
    const table = await runCli(['query', 'run', sql], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(9); // top, head, rule, three rows with rules between, bottom
    expect(lines[1]).toMatch(/│ k\s+│ twice\s+│ t\s+│/);
    expect(lines[5]).toMatch(/│ 2\s+│ 4\s+│ NULL\s+│/);
    // Plain output when not at a terminal: no progress line, no escape sequences.
    expect(table.stderr + csv.stderr + json.stderr).not.toContain('\x1b');

    expect(savedSession(env)).toEqual(session);
    const lens = new LensClient(stack.cluster.balancerUrl);
    const xml = `<lensSessionHandle><publicId>${session.publicId}</publicId><secretId>${session.secretId}</secretId></lensSessionHandle>`;
    expect((await lens.request('GET', 'queryapi/queries', { query: { sessionid: xml }, accept: 'application/json' })).json<unknown[]>()).toHaveLength(3);

    // A saved session closed elsewhere: the next run opens a new one and saves it.
    expect((await lens.close({ xml })).status).toBe(200);
    const again = await runCli(['query', 'run', 'SELECT 42 AS answer', '-f', 'csv'], env);
    expect(again).toMatchObject({ code: 0, stdout: 'answer\n42\n' });
    expect(savedSession(env).publicId).not.toBe(session.publicId);
  });

  it('streams a large result to a file with --output, page after page', async () => {
    const file = join(dir, 'big.csv');
    const run = await runCli(['query', 'run', "SELECT k, repeat('x', 20) AS pad FROM generate_series(1, 25000) k", '--output', file], userEnv());
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`quarry: wrote 25000 rows to ${file}`);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(25001);
    expect([lines[0], lines[1], lines[10000], lines[10001], lines[25000]]).toEqual(['k,pad', `1,${'x'.repeat(20)}`, `10000,${'x'.repeat(20)}`, `10001,${'x'.repeat(20)}`, `25000,${'x'.repeat(20)}`]);
  });

  it('exits 1 for a failed or refused query, 2 for usage, 3 when the server cannot be reached, 4 for a wrong password, each with one line', async () => {
    const env = userEnv();
    const failed = await runCli(['query', 'run', 'SELECT 1 / (k - 1) FROM generate_series(1, 2) k'], env);
    expect(failed.code).toBe(1);
    expect(oneLine(failed.stderr)).toEqual([expect.stringMatching(/^quarry: query [0-9a-f-]{36} FAILED: .*division by zero/)]);
    expect(failed.stdout).toBe('');

    const refused = await runCli(['query', 'run', 'SELEC 1'], env);
    expect(refused.code).toBe(1);
    expect(oneLine(refused.stderr)).toEqual([expect.stringMatching(/^quarry: .*syntax.* \(Lens \d{4}, HTTP 400\)$/)]);

    for (const args of [['query', 'run'], ['query', 'run', 'SELECT 1', '--format', 'xml'], ['query', 'explode'], ['session', 'set', 'only-a-key'], ['query', 'run', 'SELECT 1', '--conf', 'no-equals']]) {
      const usage = await runCli(args, env);
      expect([args, usage.code]).toEqual([args, 2]);
      expect(oneLine(usage.stderr)).toEqual([expect.stringMatching(/^quarry: /)]);
    }
    const closedNothing = await runCli(['session', 'close'], userEnv());
    expect([closedNothing.code, closedNothing.stderr]).toEqual([2, expect.stringContaining('no saved session for ana')]);

    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await runCli(['--server', nowhere, 'query', 'run', 'SELECT 1'], env);
    expect(unreachable.code).toBe(3);
    expect(oneLine(unreachable.stderr)).toEqual([`quarry: cannot reach the server at ${nowhere}: ECONNREFUSED`]);

    const wrong = await runCli(['query', 'run', 'SELECT 1'], userEnv(undefined, { QUARRY_PASSWORD: 'not it' }));
    expect(wrong.code).toBe(4);
    expect(oneLine(wrong.stderr)).toEqual([expect.stringMatching(/^quarry: .* \(Lens 9001, HTTP 401\)$/)]);
  });

  it('manages the session (open, set, show, add-resource, close), reads queries back (status, list, results) and shows the nodes', async () => {
    const env = userEnv();
    const opened = await runCli(['session', 'open', '--conf', 'lens.query.driver=pg'], env);
    expect(opened.code).toBe(0);
    expect(opened.stdout.trim()).toBe(savedSession(env).publicId);

    expect((await runCli(['session', 'set', 'quarry.cli.test', 'v=1'], env)).code).toBe(0);
    expect(await runCli(['session', 'show', 'quarry.cli.test', '-f', 'csv'], env)).toMatchObject({ code: 0, stdout: 'key,value\nquarry.cli.test,v=1\n' });
    expect((await runCli(['session', 'show', '-f', 'json'], env)).stdout).toContain('"key":"lens.query.driver","value":"pg"');
    const resource = join(dir, 'resources', 'lookup.csv');
    expect((await runCli(['session', 'add-resource', 'file', resource], env)).code).toBe(0);
    expect(await runCli(['session', 'show', '--resources', '-f', 'csv'], env)).toMatchObject({ code: 0, stdout: `type,path\nfile,${resource}\n` });
    const outside = await runCli(['session', 'add-resource', 'file', '/etc/passwd'], env);
    expect([outside.code, oneLine(outside.stderr).length]).toEqual([1, 1]);

    const run = await runCli(['query', 'run', 'SELECT 7 AS seven', '--name', 'cli-named', '-f', 'csv'], env);
    const handle = /query ([0-9a-f-]{36}) SUCCESSFUL/.exec(run.stderr)![1];
    const status = await runCli(['query', 'status', handle, '-f', 'json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ queryHandle: { handleId: handle }, submittedUser: 'ana', selectedDriverName: 'pg', queryName: 'cli-named', status: { status: 'SUCCESSFUL' } });
    expect((await runCli(['query', 'status', handle], env)).stdout).toMatch(/│ state\s+│ SUCCESSFUL\s+│/);
    expect(await runCli(['query', 'list', '--name', 'cli-named', '-f', 'csv'], env)).toMatchObject({ code: 0, stdout: `handle\n${handle}\n` });
    expect(await runCli(['query', 'results', handle, '-f', 'csv'], env)).toMatchObject({ code: 0, stdout: 'seven\n7\n' });
    const notRunning = await runCli(['query', 'cancel', handle], env);
    expect([notRunning.code, oneLine(notRunning.stderr).length]).toEqual([1, 1]);
    const unknown = await runCli(['query', 'status', '00000000-0000-4000-8000-000000000000'], env);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/\(Lens 1003, HTTP 404\)\n$/)]);

    const nodes = await runCli(['nodes', '-f', 'csv'], env);
    expect(nodes.code).toBe(0);
    const rows = nodes.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('node,state,url,services,heartbeat ms ago,running,held results,incarnation');
    expect(rows.filter((r) => /^L[12],UP,http:\/\/127\.0\.0\.1:\d+,/.test(r)).map((r) => r.slice(0, 2)).sort()).toEqual(['L1', 'L2']);
    expect((await runCli(['nodes'], env)).stdout).toMatch(/│ L1\s+│ UP\s+│/);

    const closed = await runCli(['session', 'close'], env);
    expect(closed.code).toBe(0);
    expect(savedSession(env)).toBeUndefined();
  });

  it('in a terminal shows a live progress line with the state and elapsed time, and Ctrl-C cancels the query on the server', async () => {
    const env = userEnv();
    const terminal = new CliInTerminal(['query', 'run', 'SELECT pg_sleep(60) AS slept'], env);
    try {
      // The line redraws in place: RUNNING with an elapsed time that moves on.
      const first = await terminal.waitForOutput('the progress line to show RUNNING', /query ([0-9a-f-]{36}) RUNNING \[.*\] 0% \| (\d+)s/);
      const handle = first[1];
      await terminal.waitForOutput('the elapsed time to move on', new RegExp(`query ${handle} RUNNING \\[.*\\] 0% \\| (?!${first[2]}s)\\d+s`));
      await waitFor('the warehouse to run the sleep', async () => (await sleepers()) === 1);

      terminal.type('\x03');
      expect(await terminal.exited).toBe(1);
      expect(terminal.output).toContain(`quarry: query ${handle} canceled on the server (interrupted)`);
      const status = await runCli(['query', 'status', handle, '-f', 'json'], env);
      expect(JSON.parse(status.stdout).status.status).toBe('CANCELED');
      await waitFor('the warehouse statement to end', async () => (await sleepers()) === 0, { timeoutMs: 10_000 });
    } finally {
      terminal.kill();
    }
  });

  it('in a terminal clears the progress line and prints the table', async () => {
    const terminal = new CliInTerminal(['query', 'run', 'SELECT 5 AS five, true AS slept FROM pg_sleep(1.2)'], userEnv());
    try {
      await terminal.waitForOutput('the progress line', /RUNNING \[.*\] \d+% \| \d+s/);
      expect(await terminal.exited).toBe(0);
      expect(terminal.output).toMatch(/│ five\s+│ slept\s+│/);
      expect(terminal.output).toMatch(/│ 5\s+│ true\s+│/);
      expect(terminal.output).toMatch(/SUCCESSFUL in [\d.]+ s, 1 row/);
    } finally {
      terminal.kill();
    }
  });

  it('in a terminal counts the rows written to --output on the progress line', async () => {
    const file = join(dir, 'counted.csv');
    const terminal = new CliInTerminal(['query', 'run', 'SELECT k FROM generate_series(1, 25000) k', '-o', file], userEnv());
    try {
      expect(await terminal.exited).toBe(0);
      expect(terminal.output).toMatch(/rows written: 25000 \| \d+s/);
      expect(terminal.output).toContain(`quarry: wrote 25000 rows to ${file}`);
      expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(25001);
    } finally {
      terminal.kill();
    }
  });

  it('at a terminal asks for the password the server wants when none is given, without echoing it', async () => {
    const env = userEnv();
    delete env['QUARRY_PASSWORD'];
    const terminal = new CliInTerminal(['query', 'run', 'SELECT 3 AS three', '-f', 'csv'], env);
    try {
      await terminal.waitForOutput('the password prompt', /Password for ana on http:\/\/127\.0\.0\.1:\d+: $/);
      terminal.type(`${password}\r`);
      expect(await terminal.exited).toBe(0);
      expect(terminal.output).toContain('three\r\n3\r\n'); // the terminal writes \n as \r\n
      expect(terminal.output).not.toContain(password);
    } finally {
      terminal.kill();
    }
  });

  /** Statements the nodes run in the warehouse now (the sleep runs under a cursor's FETCH, so its text is not the query's). */
  async function sleepers(): Promise<number> {
    const { rows } = await warehouse.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND usename = $2 AND state = 'active' AND pid <> pg_backend_pid()`,
      [warehouse.name, warehouse.readerRole],
    );
    return rows[0].n;
  }
});
