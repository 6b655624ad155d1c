import { DbPurposes } from '../db/db-purpose';
import { DeferredPass } from './deferred-pass';

describe('DeferredPass', () => {
  const purposes = new DbPurposes(true);
  let runs: string[];
  let more: number;
  let pass: DeferredPass;

  beforeEach(() => {
    jest.useFakeTimers();
    runs = [];
    more = 0;
    pass = new DeferredPass(
      purposes,
      async () => void runs.push(purposes.current()),
      () => more-- > 0,
    );
  });

  afterEach(() => jest.useRealTimers());

  it('arms nothing until asked, then runs once however often it was asked, under the background purpose', async () => {
    expect(jest.getTimerCount()).toBe(0);
    purposes.run('lens', () => {
      pass.request(1000);
      pass.request(1000);
    });
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toEqual(['background']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('runs again while `again` says so, then stops arming', async () => {
    more = 2;
    pass.request(1000);
    await jest.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('runs nothing once stopped', async () => {
    pass.request(1000);
    await pass.stop();
    pass.request(1000);
    await jest.advanceTimersByTimeAsync(5000);
    expect(runs).toEqual([]);
  });
});
