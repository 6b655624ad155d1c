import type { AppendingEvent } from '@quarry/eventstore';
import { queryRowChange } from './query-row-change';

const queryHandle = '5f0c8f3e-6a4b-4d61-9a43-0e2b1c1f9a10';
const at = (second: number) => `2026-11-30T12:00:${String(second).padStart(2, '0')}.000Z`;
/** Only what the fold reads: type, payload, occurredAt. */
const event = (type: string, payload: Record<string, unknown>, second = 0) => ({ type, payload: { queryHandle, ...payload }, occurredAt: at(second) }) as unknown as AppendingEvent;
const attempt = { attempt: 1, executorNodeId: 'L2' };

describe('the change one append makes to a queries row', () => {
  it('inserts a submitted, launched and running query as RUNNING, versioned by its last event, with its executor', () => {
    const change = queryRowChange([
      event('QuerySubmitted', { sessionPublicId: 's', userName: 'ana', queryName: 'q', driver: 'pg' }, 1),
      event('QueryLaunched', attempt),
      event('QueryRunning', attempt),
    ]);
    expect(change).toEqual({
      queryHandle,
      submitted: { sessionPublicId: 's', userName: 'ana', queryName: 'q', driver: 'pg', submittedAt: at(1) },
      status: 'RUNNING',
      versionOf: 2,
      executorNodeId: 'L2',
    });
  });

  it('records a held success with its holder and finish time', () => {
    const held = { nodeId: 'L2', incarnation: '9d1c1f9a-0e2b-4d61-9a43-5f0c8f3e6a4b', bytes: 42 };
    expect(queryRowChange([event('QuerySucceeded', { ...attempt, rowCount: 1, held }, 7)])).toEqual({
      queryHandle,
      status: 'SUCCESSFUL',
      versionOf: 0,
      finishedAt: at(7),
      holder: held,
    });
  });

  it('clears the finish time and the holder of a requeued query', () => {
    expect(queryRowChange([event('QueryAttemptOrphaned', attempt), event('QueryRequeued', attempt)])).toEqual({
      queryHandle,
      status: 'QUEUED',
      versionOf: 1,
      finishedAt: null,
      holder: null,
    });
  });

  it('moves the version, not the status, of an expired result; changes nothing for events that leave the row alone', () => {
    expect(queryRowChange([event('ResultExpired', {})])).toEqual({ queryHandle, versionOf: 0, holder: null });
    expect(queryRowChange([event('QueryConfUpdated', { conf: {} })])).toBeUndefined();
  });
});
