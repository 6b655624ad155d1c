import { firstInvalidStep } from '@quarry/query';

/**
 * The chaos run's verdict, from what the clients saw and what the event store holds. Pure: the
 * harness gathers the inputs, this file only counts (and its unit test doctors histories).
 */

/** What one client request went through (one request id, however many retries). */
export interface ClientRecord {
  requestId: string;
  /** The answer the query must give (`SELECT <k> AS k ...`). */
  k: number;
  persistent: boolean;
  /** Every distinct handle a submit of this request id answered, in the order seen. */
  handles: string[];
  /** The last status the client polled (undefined: it never saw one). */
  finalStatus?: string;
  /** The first cell of the result, as read (undefined: never read). */
  value?: unknown;
  /** Answers the client did not expect (retried connection errors, 502 and 503 are not here). */
  errors: string[];
}

/** One row of `events`. */
export interface EventRow {
  globalPosition: number;
  streamId: string;
  streamVersion: number;
  type: string;
  payload: Record<string, unknown>;
  nodeIncarnation: string;
  occurredAt: Date;
}

export const FAULT_KINDS = ['sigkill', 'sigstop', 'sigterm', 'broker', 'db-backends'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault as the harness dealt it: when, and to which node incarnation (node faults only). */
export interface FaultRecord {
  kind: FaultKind;
  nodeId?: string;
  incarnation?: string;
  /** Epoch ms at which the signal was sent (or the broker killed, the backends terminated). */
  at: number;
}

/** A node process that ended; `planned` when the harness asked for it (see harness). */
export interface ExitRecord {
  nodeId: string;
  code: number | null;
  signal: string | null;
  planned: boolean;
}

export interface VerdictInput {
  clients: readonly ClientRecord[];
  events: readonly EventRow[];
  faults: readonly FaultRecord[];
  exits: readonly ExitRecord[];
}

export interface Verdict {
  submitted: number;
  succeeded: number;
  failed: number;
  lost: number;
  duplicated: number;
  invalid: number;
  wrong: number;
  client_errors: number;
  ghost_writes: number;
  unplanned_exits: number;
  takeover_ms_p50: number | null;
  takeover_ms_p99: number | null;
}

/** The counters that must be 0 for a run to pass. */
export const MUST_BE_ZERO = ['lost', 'duplicated', 'invalid', 'wrong', 'ghost_writes', 'unplanned_exits'] as const;

const TERMINAL = new Set(['QuerySucceeded', 'QueryFailed', 'QueryCanceled']);

export function verdict({ clients, events, faults, exits }: VerdictInput): Verdict {
  const streams = queryStreams(events);

  // Accepted: the store holds its QuerySubmitted, or a client was given its handle.
  const accepted = new Set<string>([...streams].filter(([, history]) => history.some((e) => e.type === 'QuerySubmitted')).map(([handle]) => handle));
  for (const record of clients) record.handles.forEach((h) => accepted.add(h));

  let succeeded = 0;
  let failed = 0;
  let lost = 0;
  let duplicated = 0;
  for (const handle of accepted) {
    const terminals = (streams.get(handle) ?? []).filter((e) => TERMINAL.has(e.type));
    if (terminals.length === 0) lost++;
    else if (terminals[0].type === 'QuerySucceeded') succeeded++;
    else failed++;
    if (terminals.length > 1) duplicated++;
  }
  duplicated += requestsWithTwoHandles(clients, streams);

  let invalid = 0;
  for (const history of streams.values()) if (firstInvalidStep(history.map((e) => e.type))) invalid++;

  return {
    submitted: clients.length,
    succeeded,
    failed,
    lost,
    duplicated,
    invalid,
    wrong: clients.filter((r) => r.value !== undefined && String(r.value) !== String(r.k)).length,
    client_errors: clients.reduce((n, r) => n + r.errors.length, 0),
    ghost_writes: ghostWrites(events),
    unplanned_exits: exits.filter((e) => !e.planned).length,
    ...takeover(streams, faults),
  };
}

/** Each query stream's events in stream order, by query handle. */
function queryStreams(events: readonly EventRow[]): Map<string, EventRow[]> {
  const streams = new Map<string, EventRow[]>();
  for (const event of events) {
    if (!event.streamId.startsWith('query-')) continue;
    const handle = event.streamId.slice('query-'.length);
    const history = streams.get(handle) ?? [];
    history.push(event);
    streams.set(handle, history);
  }
  for (const history of streams.values()) history.sort((a, b) => a.streamVersion - b.streamVersion);
  return streams;
}

/** Request ids that got two handles: answered to a client, or submitted as two queries in the store. */
function requestsWithTwoHandles(clients: readonly ClientRecord[], streams: Map<string, EventRow[]>): number {
  const handlesOf = new Map<string, Set<string>>();
  const add = (requestId: string, handle: string) => handlesOf.set(requestId, (handlesOf.get(requestId) ?? new Set()).add(handle));
  for (const record of clients) record.handles.forEach((h) => add(record.requestId, h));
  for (const [handle, history] of streams) {
    const requestId = history.find((e) => e.type === 'QuerySubmitted')?.payload['clientRequestId'];
    if (typeof requestId === 'string') add(requestId, handle);
  }
  return [...handlesOf.values()].filter((handles) => handles.size > 1).length;
}

function ghostWrites(events: readonly EventRow[]): number {
  return ghostEvents(events).length;
}

/** Events appended by an incarnation after a NodeDown or NodeLeft of that incarnation. */
function ghostEvents(events: readonly EventRow[]): EventRow[] {
  const endedAt = new Map<string, number>();
  for (const event of events) {
    if (event.type !== 'NodeDown' && event.type !== 'NodeLeft') continue;
    const incarnation = String(event.payload['incarnation']);
    endedAt.set(incarnation, Math.min(endedAt.get(incarnation) ?? Infinity, event.globalPosition));
  }
  return events.filter((e) => e.globalPosition > (endedAt.get(e.nodeIncarnation) ?? Infinity));
}

/** For the run's log: ghost writes by ended incarnation, how it ended, and the types it went on writing. */
export function ghostWriteSummary(events: readonly EventRow[]): string[] {
  const ends = new Map<string, EventRow>();
  for (const e of events) if ((e.type === 'NodeDown' || e.type === 'NodeLeft') && !ends.has(String(e.payload['incarnation']))) ends.set(String(e.payload['incarnation']), e);
  const byIncarnation = new Map<string, Map<string, number>>();
  for (const ghost of ghostEvents(events)) {
    const types = byIncarnation.get(ghost.nodeIncarnation) ?? new Map<string, number>();
    types.set(ghost.type, (types.get(ghost.type) ?? 0) + 1);
    byIncarnation.set(ghost.nodeIncarnation, types);
  }
  return [...byIncarnation].map(([incarnation, types]) => {
    const end = ends.get(incarnation);
    const ended = `${end?.payload['nodeId']} ${incarnation.slice(0, 8)} after its ${end?.type}${end?.payload['cause'] ? ` (${end.payload['cause']})` : ''}`;
    return `${ended}: ${[...types].map(([type, n]) => `${type} x${n}`).join(', ')}`;
  });
}

/**
 * For each attempt orphaned on an incarnation the harness SIGKILLed or SIGSTOPped: from the
 * signal to the QueryLaunched of the next attempt.
 */
function takeover(streams: Map<string, EventRow[]>, faults: readonly FaultRecord[]): Pick<Verdict, 'takeover_ms_p50' | 'takeover_ms_p99'> {
  const signaledAt = new Map<string, number>();
  for (const f of faults) if ((f.kind === 'sigkill' || f.kind === 'sigstop') && f.incarnation) signaledAt.set(f.incarnation, f.at);
  const samples: number[] = [];
  for (const history of streams.values()) {
    for (const orphaned of history.filter((e) => e.type === 'QueryAttemptOrphaned')) {
      const at = signaledAt.get(String(orphaned.payload['incarnation']));
      const next = history.find((e) => e.type === 'QueryLaunched' && e.payload['attempt'] === Number(orphaned.payload['attempt']) + 1);
      if (at !== undefined && next) samples.push(next.occurredAt.getTime() - at);
    }
  }
  return { takeover_ms_p50: percentile(samples, 50), takeover_ms_p99: percentile(samples, 99) };
}

/** Nearest-rank percentile; null without samples. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The counters of MUST_BE_ZERO that are not. */
export function failures(v: Verdict): string[] {
  return MUST_BE_ZERO.filter((key) => v[key] !== 0).map((key) => `${key}=${v[key]}`);
}
