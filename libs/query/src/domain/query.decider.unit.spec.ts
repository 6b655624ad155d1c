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

    it('re-runs a query whose result was lost beside its SUCCESSFUL status, as attempt 2, until the new result lands', () => {
      const lost = given(submit, { ...launch, startRunning: true } as QueryCommand, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1, held }, {
        type: 'LoseResult',
        incarnation,
        reason: 'node-down',
      });
      const asked = decide({ type: 'Rerun', requestedBy: 'ana', reason: 'lost with L1' }, lost);
      expect(asked.map((e) => e.type)).toEqual(['ResultRerunRequested']);
      const requeued = apply(lost, asked);
      expect(requeued).toMatchObject({ status: 'SUCCESSFUL', resultAvailable: false, rerun: { reason: 'lost with L1', phase: 'queued' }, heldResult: undefined });
      const relaunched = apply(requeued, decide(launch, requeued));
      expect(relaunched).toMatchObject({ status: 'SUCCESSFUL', attempt: 2, rerun: { phase: 'running' } });
      const done = decide({ type: 'Complete', attempt: 2, resultAvailable: true, rowCount: 4, held }, relaunched);
      expect(done.map((e) => e.type)).toEqual(['ResultRecomputed']);
      expect(apply(relaunched, done)).toMatchObject({ status: 'SUCCESSFUL', resultAvailable: true, rowCount: 4, rerun: undefined, resultGone: undefined, heldResult: held });
      expect(refusal({ type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1 }, relaunched)).toEqual({ kind: 'stale-attempt', attempt: 1, current: 2 });
      expect(refusal({ type: 'Rerun', requestedBy: 'ana', reason: 'x' }, heldDone())).toEqual({ kind: 'not-gone', status: 'SUCCESSFUL' });
      expect(refusal({ type: 'Rerun', requestedBy: 'ana', reason: 'x' }, requeued)).toEqual({ kind: 'not-gone', status: 'SUCCESSFUL' });
      const deleted = apply(heldDone(), decide({ type: 'DeleteResult', deletedBy: 'ana' }, heldDone()));
      expect(refusal({ type: 'Rerun', requestedBy: 'ana', reason: 'x' }, deleted)).toEqual({ kind: 'not-gone', status: 'SUCCESSFUL' });
    });

    it('a failed re-run leaves the query SUCCESSFUL without a result, saying why', () => {
      const lost = given(submit, { ...launch, startRunning: true } as QueryCommand, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1, held }, {
        type: 'LoseResult',
        incarnation,
        reason: 'node-down',
      });
      const running = given(submit, { ...launch, startRunning: true } as QueryCommand, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1, held }, { type: 'LoseResult', incarnation, reason: 'node-down' }, { type: 'Rerun', requestedBy: 'ana', reason: 'r' }, launch);
      expect(lost.status).toBe('SUCCESSFUL');
      const failed = decide({ type: 'Fail', attempt: 2, message: 'relation gone' }, running);
      expect(failed.map((e) => e.type)).toEqual(['ResultRerunFailed']);
      expect(apply(running, failed)).toMatchObject({ status: 'SUCCESSFUL', resultAvailable: false, rerun: undefined, rerunError: 'relation gone' });
    });
  });

  describe('takeover', () => {
    const dead = randomUUID();
    const onDead: QueryCommand = { type: 'LaunchQuery', executorNodeId: 'L2', executorIncarnation: dead, startRunning: true };
    const takeOver: QueryCommand = { type: 'TakeOver', nodeId: 'L2', incarnation: dead, reason: 'node-down', takenOverBy: 'L1' };

    it('puts a running attempt of an ended incarnation back in the queue through FAILING, naming the attempt, node and why', () => {
      for (const steps of [[submit, { ...onDead, startRunning: false } as QueryCommand], [submit, onDead], [submit, onDead, { type: 'MarkExecuted', attempt: 1, rowCount: 1 } as QueryCommand]]) {
        const events = decide(takeOver, given(...steps));
        expect(events.map((e) => e.type)).toEqual(['QueryAttemptOrphaned', 'QueryRequeued']);
        expect(events[0].payload).toEqual({ queryHandle, attempt: 1, nodeId: 'L2', incarnation: dead, reason: 'node-down', takenOverBy: 'L1' });
        const requeued = apply(given(...steps), events);
        expect(requeued).toMatchObject({ status: 'QUEUED', attempt: 1, executorIncarnation: undefined });
        expect(requeued.takeoverNote).toContain('attempt 1 on node L2');
        // Exactly once: a second notice of the same death decides nothing.
        expect(decide(takeOver, requeued)).toEqual([]);
        const relaunched = apply(requeued, decide(launch, requeued));
        expect(relaunched).toMatchObject({ status: 'LAUNCHED', attempt: 2 });
        expect(refusal({ type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1 }, relaunched)).toEqual({ kind: 'stale-attempt', attempt: 1, current: 2 });
      }
    });

    it('leaves alone a query another incarnation runs, or one that is queued or finished', () => {
      expect(decide(takeOver, given(submit, launch))).toEqual([]);
      expect(decide(takeOver, given(submit))).toEqual([]);
      expect(decide(takeOver, given(submit, onDead, { type: 'Complete', attempt: 1, resultAvailable: true, rowCount: 1 }))).toEqual([]);
      expect(decide(takeOver, given(submit, onDead, { type: 'Cancel', canceledBy: 'ana' }))).toEqual([]);
    });
  });

  it('fences writes from a stale attempt', () => {
    const running = given(submit, launch);
    expect(refusal({ type: 'MarkExecuted', attempt: 0, rowCount: 1 }, running)).toEqual({ kind: 'stale-attempt', attempt: 0, current: 1 });
    expect(refusal({ type: 'Fail', attempt: 2, message: 'x' }, running)).toEqual({ kind: 'stale-attempt', attempt: 2, current: 1 });
  });

  it('fails through FAILING to FAILED with the driver message, and cannot succeed afterwards', () => {
    expect(decide({ type: 'Fail', attempt: 1, message: 'division by zero' }, given(submit, launch)).map((e) => e.type)).toEqual(['QueryFailing', 'QueryFailed']);
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
