import { randomUUID } from 'node:crypto';
import { folder, seededRandom } from '@quarry/testing';
import { decide, evolve, type QueryCommand } from './query.decider';
import { QueryRefused } from './query.errors';
import { firstInvalidStep, statusAfter } from './query-status';
import { INITIAL_QUERY, type QueryState } from './query.state';

const incarnations = [randomUUID(), randomUUID()];
const held = (incarnation: string) => ({ nodeId: 'L1', incarnation, expiresAt: new Date(0).toISOString(), bytes: 1, columns: [] });

/** Every command the services send, with attempts near the current one (stale, current, future). */
function someCommand(next: () => number, state: QueryState, handle: string): QueryCommand {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  const attempt = Math.max(0, state.attempt + pick([-1, 0, 0, 0, 1]));
  const incarnation = pick(incarnations);
  const commands: QueryCommand[] = [
    { type: 'SubmitQuery', queryHandle: handle, sessionPublicId: randomUUID(), userName: 'ana', userQuery: 'q', driver: 'pg', driverQuery: 'q', conf: {}, queryName: '', priority: 'NORMAL', persistent: false, warnings: [] },
    { type: 'UpdateConf', conf: { k: 'v' } },
    { type: 'LaunchQuery', executorNodeId: 'L1', executorIncarnation: incarnation, startRunning: next() < 0.5 },
    { type: 'ReportProgress', attempt, progress: 0.5, progressMessage: 'half' },
    { type: 'MarkExecuted', attempt, rowCount: 1 },
    { type: 'Succeed', attempt, resultAvailable: true, rowCount: 1 },
    { type: 'Complete', attempt, resultAvailable: true, rowCount: 1, ...(next() < 0.5 && { held: held(incarnation) }) },
    { type: 'Fail', attempt, message: 'boom' },
    { type: 'Cancel', canceledBy: 'ana' },
    { type: 'Close', reason: 'retention' },
    { type: 'DeleteResult', deletedBy: 'ana' },
    { type: 'ExpireResult', attempt, nodeId: 'L1' },
    { type: 'LoseResult', incarnation, reason: 'node-down' },
    { type: 'Rerun', requestedBy: 'ana', reason: 'gone' },
    { type: 'PersistHeldResult', incarnation, attempt, persisted: { path: 'x.csv', rows: 1, bytes: 2, gzip: false, header: false, columns: [] } },
    { type: 'TakeOver', nodeId: 'L1', incarnation, reason: pick(['node-down', 'node-left', 'node-restarted', 'drain'] as const), takenOverBy: 'L2' },
  ];
  return pick(commands);
}

describe('every decided event moves along an edge of Lens\'s table (property)', () => {
  const seeds = Array.from({ length: 200 }, (_, i) => 1000 + i);

  it.each(seeds)('seed %i: 60 random commands keep the history a path of the table', (seed) => {
    const next = seededRandom(seed);
    const handle = randomUUID();
    const apply = folder(`query-${handle}`, evolve);
    let state = INITIAL_QUERY;
    const history: string[] = [];
    let decided = 0;
    for (let step = 0; step < 60; step++) {
      const command = step === 0 ? someCommand(() => 0, state, handle) : someCommand(next, state, handle);
      let events;
      try {
        events = decide(command, state);
      } catch (error) {
        if (error instanceof QueryRefused) continue;
        throw error;
      }
      decided += events.length;
      history.push(...events.map((e) => e.type));
      expect({ seed, command: command.type, invalid: firstInvalidStep(history) }).toEqual({ seed, command: command.type, invalid: undefined });
      state = apply(state, events);
      // The state's status is the table's last word on the history.
      const lastStatus = [...history].reverse().map(statusAfter).find((s) => s);
      expect(state.status).toBe(lastStatus ?? 'NEW');
    }
    expect(decided).toBeGreaterThan(0);
  });

  it('the checker itself refuses what is not an edge', () => {
    expect(firstInvalidStep(['QuerySubmitted', 'QueryLaunched', 'QueryRunning', 'QueryFailed'])).toEqual({ index: 3, from: 'RUNNING', to: 'FAILED' });
    expect(firstInvalidStep(['QuerySubmitted', 'QueryLaunched', 'QueryExecuted', 'QuerySucceeded', 'QueryRequeued'])).toEqual({ index: 4, from: 'SUCCESSFUL', to: 'QUEUED' });
    expect(firstInvalidStep(['QueryLaunched'])).toEqual({ index: 0, from: 'NEW', to: 'LAUNCHED' });
    expect(firstInvalidStep(['QuerySubmitted', 'NodeDown'])).toEqual({ index: 1, from: 'QUEUED', to: 'unknown' });
    expect(firstInvalidStep(['QuerySubmitted', 'QueryLaunched', 'QueryAttemptOrphaned', 'QueryRequeued', 'QueryLaunched', 'QueryRunning', 'QueryFailing', 'QueryFailed', 'QueryClosed'])).toBeUndefined();
  });
});
