import { randomUUID } from 'node:crypto';
import { folder } from '@quarry/testing';
import { decide, evolve, type QueryCommand } from './query.decider';
import { QueryRefused } from './query.errors';
import { INITIAL_QUERY, type QueryState } from './query.state';

const queryHandle = randomUUID();
const apply = folder(`query-${queryHandle}`, evolve);

const given = (...commands: QueryCommand[]) => commands.reduce((s, c) => apply(s, decide(c, s)), INITIAL_QUERY);

const submit: QueryCommand = {
  type: 'SubmitQuery',
  queryHandle,
  sessionPublicId: randomUUID(),
  userName: 'ana',
  userQuery: 'select 1',
  driver: 'pg',
  driverQuery: 'select 1',
  conf: {},
  queryName: 'q',
  priority: 'NORMAL',
  persistent: false,
  warnings: [],
};
const launch: QueryCommand = { type: 'LaunchQuery', executorNodeId: 'L2', executorIncarnation: randomUUID() };

function refusal(command: QueryCommand, state: QueryState) {
  try {
    decide(command, state);
  } catch (error) {
    if (error instanceof QueryRefused) return error.refusal;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('query decider', () => {
  it('walks the happy path QUEUED, LAUNCHED, RUNNING, EXECUTED, SUCCESSFUL, CLOSED with every time', () => {
    const done = given(
      submit,
      launch,
      { type: 'ReportProgress', attempt: 1, progress: 0.5, progressMessage: 'half' },
      { type: 'MarkExecuted', attempt: 1, rowCount: 3 },
      { type: 'Succeed', attempt: 1, resultAvailable: true, rowCount: 3 },
      { type: 'Close', reason: 'retention' },
    );
    expect(done).toMatchObject({ status: 'CLOSED', attempt: 1, executorNodeId: 'L2', rowCount: 3, resultAvailable: true, progress: 1 });
    for (const time of ['submissionTime', 'launchTime', 'driverStartTime', 'driverFinishTime', 'finishTime', 'closedTime'] as const) {
      expect(done[time]).toEqual(expect.any(String));
    }
  });

  it('launches and starts running in one append, and completes (EXECUTED, SUCCESSFUL) in one', () => {
    const launched = decide({ ...launch, startRunning: true } as QueryCommand, given(submit));
    expect(launched.map((e) => e.type)).toEqual(['QueryLaunched', 'QueryRunning']);
    const running = given(submit, { ...launch, startRunning: true } as QueryCommand);
    expect(running).toMatchObject({ status: 'RUNNING', attempt: 1 });
    const completed = decide({ type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1 }, running);
    expect(completed.map((e) => e.type)).toEqual(['QueryExecuted', 'QuerySucceeded']);
    expect(refusal({ type: 'Complete', attempt: 0, resultAvailable: true, rowCount: 1 }, given(submit))).toEqual({ kind: 'transition', from: 'QUEUED', to: 'EXECUTED' });
  });

  it('deletes a result once; the query stays SUCCESSFUL without one', () => {
    const done = given(submit, { ...launch, startRunning: true } as QueryCommand, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1 });
    const deleted = given(submit, { ...launch, startRunning: true } as QueryCommand, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1 }, { type: 'DeleteResult', deletedBy: 'ana' });
    expect(done.resultAvailable).toBe(true);
    expect(deleted).toMatchObject({ status: 'SUCCESSFUL', resultAvailable: false });
    expect(refusal({ type: 'DeleteResult', deletedBy: 'ana' }, deleted)).toEqual({ kind: 'no-result', status: 'SUCCESSFUL' });
    expect(refusal({ type: 'DeleteResult', deletedBy: 'ana' }, given(submit))).toEqual({ kind: 'no-result', status: 'QUEUED' });
  });

  describe('in-memory results', () => {
    const incarnation = randomUUID();
    const held = { nodeId: 'L1', incarnation, expiresAt: new Date(0).toISOString(), bytes: 10, columns: [{ name: 'v', type: 'INT' }] };
    const heldDone = () => given(submit, { ...launch, startRunning: true } as QueryCommand, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1, held });

    it('records the holder with the success; expiry of that attempt makes the result unavailable, once', () => {
      expect(heldDone()).toMatchObject({ status: 'SUCCESSFUL', resultAvailable: true, heldResult: held });
      const expired = apply(heldDone(), decide({ type: 'ExpireResult', attempt: 1, nodeId: 'L1' }, heldDone()));
      expect(expired).toMatchObject({ status: 'SUCCESSFUL', resultAvailable: false, resultGone: { kind: 'expired', nodeId: 'L1' } });
      expect(decide({ type: 'ExpireResult', attempt: 1, nodeId: 'L1' }, expired)).toEqual([]);
      expect(decide({ type: 'ExpireResult', attempt: 2, nodeId: 'L1' }, heldDone())).toEqual([]);
    });

    it('loses the result only for the holding incarnation, and says why', () => {
      expect(decide({ type: 'LoseResult', incarnation: randomUUID(), reason: 'node-down' }, heldDone())).toEqual([]);
      const events = decide({ type: 'LoseResult', incarnation, reason: 'node-down' }, heldDone());
      expect(events.map((e) => [e.type, e.payload])).toEqual([['ResultLost', { queryHandle, attempt: 1, nodeId: 'L1', incarnation, reason: 'node-down' }]]);
      const lost = apply(heldDone(), events);
      expect(lost).toMatchObject({ resultAvailable: false, resultGone: { kind: 'lost', nodeId: 'L1', reason: 'node-down' } });
      expect(decide({ type: 'LoseResult', incarnation, reason: 'node-down' }, lost)).toEqual([]);
    });

    it('re-runs a query whose result was lost: QUEUED again, next launch is attempt 2, the reason kept', () => {
      const lost = given(submit, { ...launch, startRunning: true } as QueryCommand, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1, held }, {
        type: 'LoseResult',
        incarnation,
        reason: 'node-down',
      });
      const requeued = apply(lost, decide({ type: 'Rerun', requestedBy: 'ana', reason: 'lost with L1' }, lost));
      expect(requeued).toMatchObject({ status: 'QUEUED', rerunReason: 'lost with L1', heldResult: undefined, finishTime: undefined });
      const relaunched = apply(requeued, decide(launch, requeued));
      expect(relaunched).toMatchObject({ status: 'LAUNCHED', attempt: 2 });
      expect(refusal({ type: 'Rerun', requestedBy: 'ana', reason: 'x' }, heldDone())).toEqual({ kind: 'not-gone', status: 'SUCCESSFUL' });
      expect(refusal({ type: 'Rerun', requestedBy: 'ana', reason: 'x' }, requeued)).toEqual({ kind: 'not-gone', status: 'QUEUED' });
      const deleted = apply(heldDone(), decide({ type: 'DeleteResult', deletedBy: 'ana' }, heldDone()));
      expect(refusal({ type: 'Rerun', requestedBy: 'ana', reason: 'x' }, deleted)).toEqual({ kind: 'not-gone', status: 'SUCCESSFUL' });
    });
  });

  it('fences writes from a stale attempt', () => {
    const running = given(submit, launch);
    expect(refusal({ type: 'MarkExecuted', attempt: 0, rowCount: 1 }, running)).toEqual({ kind: 'stale-attempt', attempt: 0, current: 1 });
    expect(refusal({ type: 'Fail', attempt: 2, message: 'x' }, running)).toEqual({ kind: 'stale-attempt', attempt: 2, current: 1 });
  });

  it('fails through FAILING to FAILED with the driver message, and cannot succeed afterwards', () => {
    const failed = given(submit, launch, { type: 'Fail', attempt: 1, message: 'division by zero' });
    expect(failed).toMatchObject({ status: 'FAILED', errorMessage: 'division by zero' });
    expect(refusal({ type: 'Succeed', attempt: 1, resultAvailable: false, rowCount: 0 }, failed)).toEqual({ kind: 'transition', from: 'FAILED', to: 'SUCCESSFUL' });
  });

  it('cancels a queued, launched, running or executed query, and says a finished one was not running', () => {
    for (const steps of [[submit], [submit, launch], [submit, launch, { type: 'MarkExecuted', attempt: 1, rowCount: 0 } as QueryCommand]]) {
      expect(given(...steps, { type: 'Cancel', canceledBy: 'ana' }).status).toBe('CANCELED');
    }
    const succeeded = given(submit, launch, { type: 'MarkExecuted', attempt: 1, rowCount: 0 }, { type: 'Succeed', attempt: 1, resultAvailable: true, rowCount: 0 });
    expect(refusal({ type: 'Cancel', canceledBy: 'ana' }, succeeded)).toEqual({ kind: 'not-running', status: 'SUCCESSFUL' });
    expect(refusal({ type: 'Cancel', canceledBy: 'ana' }, INITIAL_QUERY)).toEqual({ kind: 'not-found' });
  });

  it('changes conf only before launch', () => {
    const queued = given(submit, { type: 'UpdateConf', conf: { k: 'v' } });
    expect(queued.conf).toEqual({ k: 'v' });
    expect(refusal({ type: 'UpdateConf', conf: {} }, given(submit, launch))).toEqual({ kind: 'transition', from: 'LAUNCHED', to: 'QUEUED' });
  });

  it('re-launches (LAUNCHED -> LAUNCHED) with a new attempt that fences the old executor', () => {
    const relaunched = given(submit, launch, { ...launch, executorNodeId: 'L3' } as QueryCommand);
    expect(relaunched).toMatchObject({ status: 'LAUNCHED', attempt: 2, executorNodeId: 'L3' });
    expect(refusal({ type: 'MarkExecuted', attempt: 1, rowCount: 0 }, relaunched)).toEqual({ kind: 'stale-attempt', attempt: 1, current: 2 });
  });

  it('refuses to run before launch, and anything on an unknown query', () => {
    expect(refusal({ type: 'ReportProgress', attempt: 0, progress: 0, progressMessage: '' }, given(submit))).toEqual({ kind: 'transition', from: 'QUEUED', to: 'RUNNING' });
    expect(refusal(launch, INITIAL_QUERY)).toEqual({ kind: 'not-found' });
    expect(refusal(submit, given(submit))).toEqual({ kind: 'transition', from: 'QUEUED', to: 'QUEUED' });
  });
});
