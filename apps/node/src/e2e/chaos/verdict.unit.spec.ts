import { MUST_BE_ZERO, failures, ghostWriteSummary, percentile, verdict, type ClientRecord, type EventRow, type VerdictInput } from './verdict';

const L1_FIRST = '11111111-1111-4111-8111-111111111111';
const L1_AGAIN = '11111111-1111-4111-8111-222222222222';
const L2 = '22222222-2222-4222-8222-222222222222';
const L3 = '33333333-3333-4333-8333-333333333333';
const KILLED_AT = Date.parse('2025-01-01T00:00:10.000Z');

/** An event store being written: each append gets the next global position and stream version. */
function store() {
  const rows: EventRow[] = [];
  const versions = new Map<string, number>();
  const append = (streamId: string, type: string, payload: Record<string, unknown> = {}, by = L2, atMs = KILLED_AT - 5000) => {
    const version = (versions.get(streamId) ?? 0) + 1;
    versions.set(streamId, version);
    rows.push({ globalPosition: rows.length + 1, streamId, streamVersion: version, type, payload, nodeIncarnation: by, occurredAt: new Date(atMs) });
  };
  /** A query that runs once on `by` and ends with `end` (event types after EXECUTED or RUNNING). */
  const query = (handle: string, requestId: string, end: string[], by = L2) => {
    append(`query-${handle}`, 'QuerySubmitted', { queryHandle: handle, clientRequestId: requestId }, by);
    append(`query-${handle}`, 'QueryLaunched', { queryHandle: handle, attempt: 1, executorIncarnation: by }, by);
    append(`query-${handle}`, 'QueryRunning', { queryHandle: handle, attempt: 1 }, by);
    for (const type of end) append(`query-${handle}`, type, { queryHandle: handle, attempt: 1 }, by);
  };
  return { rows, append, query };
}

const record = (requestId: string, k: number, handles: string[], finalStatus: string, value?: unknown): ClientRecord => ({
  requestId,
  k,
  persistent: false,
  handles,
  finalStatus,
  value,
  errors: [],
});

/**
 * A clean run: a query that succeeds; one whose node (L1) is SIGKILLed while it runs, taken over
 * and run again on L3; one that fails (FAILING, then FAILED); a persisted one whose result is
 * re-run beside SUCCESSFUL; L1 restarted as a new incarnation; the kill and the restart planned.
 */
function cleanRun(): VerdictInput {
  const s = store();
  for (const [node, incarnation] of [['L1', L1_FIRST], ['L2', L2], ['L3', L3]]) s.append(`node-${node}`, 'NodeJoined', { nodeId: node, incarnation }, incarnation);
  s.query('q1', 'r1', ['QueryExecuted', 'QuerySucceeded']);

  s.append('query-q2', 'QuerySubmitted', { queryHandle: 'q2', clientRequestId: 'r2' }, L2);
  s.append('query-q2', 'QueryLaunched', { queryHandle: 'q2', attempt: 1, executorIncarnation: L1_FIRST }, L1_FIRST);
  s.append('query-q2', 'QueryRunning', { queryHandle: 'q2', attempt: 1 }, L1_FIRST);
  s.append('node-L1', 'NodeDown', { nodeId: 'L1', incarnation: L1_FIRST, detectedBy: 'L2' }, L2, KILLED_AT + 3500);
  s.append('query-q2', 'QueryAttemptOrphaned', { queryHandle: 'q2', attempt: 1, nodeId: 'L1', incarnation: L1_FIRST, reason: 'node-down', takenOverBy: 'L2' }, L2, KILLED_AT + 3600);
  s.append('query-q2', 'QueryRequeued', { queryHandle: 'q2', reason: 'L1 is down', requestedBy: 'L2' }, L2, KILLED_AT + 3600);
  s.append('query-q2', 'QueryLaunched', { queryHandle: 'q2', attempt: 2, executorIncarnation: L3 }, L3, KILLED_AT + 4200);
  s.append('query-q2', 'QueryRunning', { queryHandle: 'q2', attempt: 2 }, L3, KILLED_AT + 4300);
  s.append('query-q2', 'QueryExecuted', { queryHandle: 'q2', attempt: 2 }, L3, KILLED_AT + 4400);
  s.append('query-q2', 'QuerySucceeded', { queryHandle: 'q2', attempt: 2 }, L3, KILLED_AT + 4400);
  s.append('node-L1', 'NodeJoined', { nodeId: 'L1', incarnation: L1_AGAIN }, L1_AGAIN, KILLED_AT + 6000);

  s.query('q3', 'r3', ['QueryFailing', 'QueryFailed'], L3);
  s.query('q4', 'r4', ['QueryExecuted', 'QuerySucceeded', 'ResultLost', 'ResultRerunRequested', 'ResultRerunLaunched', 'ResultRecomputed'], L1_AGAIN);
  s.append('session-s1', 'SessionParamSet', { key: 'a', value: 'b' }, L1_AGAIN);

  return {
    clients: [
      record('r1', 1, ['q1'], 'SUCCESSFUL', 1),
      record('r2', 2, ['q2'], 'SUCCESSFUL', 2),
      record('r3', 3, ['q3'], 'FAILED'),
      { ...record('r4', 4, ['q4'], 'SUCCESSFUL', '4'), persistent: true },
    ],
    events: s.rows,
    faults: [
      { kind: 'sigkill', nodeId: 'L1', incarnation: L1_FIRST, at: KILLED_AT },
      { kind: 'broker', at: KILLED_AT + 20_000 },
    ],
    exits: [{ nodeId: 'L1', code: null, signal: 'SIGKILL', planned: true }],
  };
}

/** The counters that must be 0, as an object (the ones a doctored history should move). */
const checked = (input: VerdictInput) => {
  const v = verdict(input);
  return Object.fromEntries(MUST_BE_ZERO.map((key) => [key, v[key]]));
};
const allZero = Object.fromEntries(MUST_BE_ZERO.map((key) => [key, 0]));

/** Appends a whole successful run of a query to `input`'s event rows. */
function withExtraQuery(input: VerdictInput, handle: string, requestId: string): VerdictInput {
  const s = store();
  s.rows.push(...input.events);
  s.query(handle, requestId, ['QueryExecuted', 'QuerySucceeded']);
  // Positions continue after the existing rows.
  return { ...input, events: s.rows.map((e, i) => ({ ...e, globalPosition: i + 1 })) };
}

describe('the chaos verdict', () => {
  it('gives a clean run all zeros, counts its queries and measures the takeover from the SIGKILL', () => {
    expect(verdict(cleanRun())).toEqual({
      submitted: 4,
      succeeded: 3,
      failed: 1,
      lost: 0,
      duplicated: 0,
      invalid: 0,
      wrong: 0,
      client_errors: 0,
      ghost_writes: 0,
      unplanned_exits: 0,
      takeover_ms_p50: 4200,
      takeover_ms_p99: 4200,
    });
    expect(failures(verdict(cleanRun()))).toEqual([]);
  });

  it('lost: an accepted query with no terminal event', () => {
    const input = cleanRun();
    const events = input.events.filter((e) => !(e.streamId === 'query-q1' && e.type === 'QuerySucceeded'));
    expect(checked({ ...input, events })).toEqual({ ...allZero, lost: 1 });
  });

  it('lost: a handle a client was given that the store never saw', () => {
    const input = cleanRun();
    const clients = [...input.clients, record('r5', 5, ['q5'], 'QUEUED')];
    expect(checked({ ...input, clients })).toEqual({ ...allZero, lost: 1 });
  });

  it('duplicated: two terminal events for one query (never a path either: nothing leaves SUCCESSFUL but CLOSED)', () => {
    const input = cleanRun();
    const q1 = input.events.filter((e) => e.streamId === 'query-q1');
    const again = { ...q1[q1.length - 1], globalPosition: input.events.length + 1, streamVersion: q1.length + 1 };
    expect(again.type).toBe('QuerySucceeded');
    expect(checked({ ...input, events: [...input.events, again] })).toEqual({ ...allZero, duplicated: 1, invalid: 1 });
  });

  it('duplicated: two handles answered to one request id', () => {
    const input = withExtraQuery(cleanRun(), 'q1-again', 'r1');
    const clients = input.clients.map((r) => (r.requestId === 'r1' ? { ...r, handles: ['q1', 'q1-again'] } : r));
    expect(checked({ ...input, clients })).toEqual({ ...allZero, duplicated: 1 });
  });

  it('duplicated: two queries submitted in the store for one request id, though the client saw one handle', () => {
    expect(checked(withExtraQuery(cleanRun(), 'q1-again', 'r1'))).toEqual({ ...allZero, duplicated: 1 });
  });

  it('invalid: a history with a step that is not an edge (RUNNING -> FAILED skips FAILING)', () => {
    const input = cleanRun();
    const events = input.events
      .filter((e) => !(e.streamId === 'query-q3' && e.type === 'QueryFailing'))
      .map((e) => (e.streamId === 'query-q3' && e.type === 'QueryFailed' ? { ...e, streamVersion: e.streamVersion - 1 } : e));
    expect(checked({ ...input, events })).toEqual({ ...allZero, invalid: 1 });
  });

  it('invalid: an edge check, not reachability (QUEUED -> RUNNING is reachable through LAUNCHED, but not an edge)', () => {
    const input = cleanRun();
    const events = input.events.filter((e) => !(e.streamId === 'query-q1' && e.type === 'QueryLaunched'));
    expect(checked({ ...input, events })).toEqual({ ...allZero, invalid: 1 });
  });

  it('wrong: a result that is not k (in memory or persisted)', () => {
    const input = cleanRun();
    expect(checked({ ...input, clients: input.clients.map((r) => (r.requestId === 'r1' ? { ...r, value: 2 } : r)) })).toEqual({ ...allZero, wrong: 1 });
    expect(checked({ ...input, clients: input.clients.map((r) => (r.requestId === 'r4' ? { ...r, value: '40' } : r)) })).toEqual({ ...allZero, wrong: 1 });
  });

  it('ghost_writes: an event appended by an incarnation after its NodeDown', () => {
    const input = cleanRun();
    const ghost: EventRow = { ...input.events[input.events.length - 1], globalPosition: input.events.length + 1, streamVersion: 2, nodeIncarnation: L1_FIRST };
    expect(checked({ ...input, events: [...input.events, ghost] })).toEqual({ ...allZero, ghost_writes: 1 });
    expect(ghostWriteSummary([...input.events, ghost])).toEqual(['L1 11111111 after its NodeDown: SessionParamSet x1']);
  });

  it('ghost_writes: an event appended by an incarnation after its NodeLeft, but not NodeLeft itself', () => {
    const input = cleanRun();
    const n = input.events.length;
    const left: EventRow = { ...input.events[0], globalPosition: n + 1, streamId: 'node-L3', streamVersion: 2, type: 'NodeLeft', payload: { nodeId: 'L3', incarnation: L3 }, nodeIncarnation: L3 };
    expect(checked({ ...input, events: [...input.events, left] })).toEqual(allZero);
    const after: EventRow = { ...input.events[n - 1], globalPosition: n + 2, streamVersion: 2, nodeIncarnation: L3 };
    expect(checked({ ...input, events: [...input.events, left, after] })).toEqual({ ...allZero, ghost_writes: 1 });
  });

  it('unplanned_exits: a node process that ended without the harness asking', () => {
    const input = cleanRun();
    expect(checked({ ...input, exits: [...input.exits, { nodeId: 'L2', code: 1, signal: null, planned: false }] })).toEqual({ ...allZero, unplanned_exits: 1 });
  });

  it('client_errors counts unexpected answers; they do not fail a run', () => {
    const input = cleanRun();
    const clients = input.clients.map((r) => (r.requestId === 'r1' ? { ...r, errors: ['status answered 500', 'status answered 500'] } : r));
    expect(verdict({ ...input, clients }).client_errors).toBe(2);
    expect(failures(verdict({ ...input, clients }))).toEqual([]);
  });

  it('takeover counts only attempts orphaned on an incarnation the harness SIGKILLed or SIGSTOPped', () => {
    const input = cleanRun();
    expect(verdict({ ...input, faults: [{ kind: 'sigterm', nodeId: 'L1', incarnation: L1_FIRST, at: KILLED_AT }] })).toMatchObject({ takeover_ms_p50: null, takeover_ms_p99: null });
    expect(verdict({ ...input, faults: [{ kind: 'sigstop', nodeId: 'L1', incarnation: L1_FIRST, at: KILLED_AT - 800 }] })).toMatchObject({ takeover_ms_p50: 5000, takeover_ms_p99: 5000 });
  });

  it('percentiles are nearest-rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect([percentile(values, 50), percentile(values, 99), percentile(values, 100), percentile([7], 99), percentile([], 50)]).toEqual([50, 99, 100, 7, null]);
  });
});
