import { chooseDriver, NoDriverCanRun } from './choose-driver';
import { DriverQueryError, type CostEstimate, type Driver } from './driver';
import { sessionSpec } from './test-support/sessions';

/** A driver that only estimates: a cost, or a refusal. */
function fakeDriver(name: string, answer: number | Error): Driver & { asked: string[] } {
  const asked: string[] = [];
  return {
    name,
    asked,
    unsupportedResources: () => [],
    explain: () => Promise.reject(new Error('not used')),
    estimate: async (_session, sql): Promise<CostEstimate> => {
      asked.push(sql);
      if (answer instanceof Error) throw answer;
      return { cost: answer, costType: 'LOW' };
    },
    execute: () => {
      throw new Error('not used');
    },
    close: async () => undefined,
  };
}

const session = sessionSpec('s');

describe('chooseDriver', () => {
  it('picks the cheapest of the drivers able to plan the query', async () => {
    const drivers = [fakeDriver('a', 50), fakeDriver('b', new DriverQueryError('b', 'no such table')), fakeDriver('c', 20)];
    const choice = await chooseDriver(drivers, session, 'SELECT 1');
    expect(choice.driver.name).toBe('c');
    expect(choice.estimate.cost).toBe(20);
    expect(drivers.map((d) => d.asked)).toEqual([['SELECT 1'], ['SELECT 1'], ['SELECT 1']]);
  });

  it('keeps the earlier driver on a tie', async () => {
    expect((await chooseDriver([fakeDriver('a', 5), fakeDriver('b', 5)], session, 'q')).driver.name).toBe('a');
  });

  it('asks the drivers at the same time', async () => {
    let release!: () => void;
    const slow: Driver = { ...fakeDriver('slow', 1), estimate: () => new Promise((resolve) => (release = () => resolve({ cost: 1, costType: 'VERY_LOW' }))) };
    const fast = fakeDriver('fast', 9);
    const choosing = chooseDriver([slow, fast], session, 'q');
    await Promise.resolve();
    expect(fast.asked).toEqual(['q']);
    release();
    expect((await choosing).driver.name).toBe('slow');
  });

  it('takes the explicitly named driver without asking the others', async () => {
    const [a, b] = [fakeDriver('a', 1), fakeDriver('b', 100)];
    const choice = await chooseDriver([a, b], session, 'q', ' b ');
    expect(choice.driver).toBe(b);
    expect(choice.estimate.cost).toBe(100);
    expect(a.asked).toEqual([]);
  });

  it('refuses an unknown explicit name, listing the drivers', async () => {
    await expect(chooseDriver([fakeDriver('pg', 1), fakeDriver('duckdb', 1)], session, 'q', 'hive')).rejects.toThrow(
      new DriverQueryError('hive', 'unknown driver hive; available: pg, duckdb'),
    );
  });

  it('passes on the explicit driver refusal', async () => {
    await expect(chooseDriver([fakeDriver('pg', new DriverQueryError('pg', 'syntax error'))], session, 'q', 'pg')).rejects.toThrow('syntax error');
  });

  it('when no driver can run the query, says why for each', async () => {
    const drivers = [fakeDriver('pg', new DriverQueryError('pg', 'relation "x" does not exist')), fakeDriver('duckdb', new Error('Catalog Error: x'))];
    const error = await chooseDriver(drivers, session, 'SELECT * FROM x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoDriverCanRun);
    expect(error).toBeInstanceOf(DriverQueryError);
    expect((error as NoDriverCanRun).reasons).toEqual([
      { driver: 'pg', message: 'relation "x" does not exist' },
      { driver: 'duckdb', message: 'Catalog Error: x' },
    ]);
    expect((error as Error).message).toBe('no driver can run this query (pg: relation "x" does not exist; duckdb: Catalog Error: x)');
  });

  it('says so when there are no drivers at all', async () => {
    await expect(chooseDriver([], session, 'q')).rejects.toThrow('no drivers are configured');
  });
});
