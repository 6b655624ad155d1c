import { z } from 'zod';
import { defineEvent } from './define-event';

const QueryRef = { queryHandle: z.string().uuid() };
/** Every launch of a query gets the next attempt; a write from an older attempt is refused (fencing). */
const Attempt = { attempt: z.number().int().positive() };

/** Longest `queryName` and client request id (`quarry.query.request.id`) a query may carry. */
export const QUERY_NAME_MAX = 1024;
export const CLIENT_REQUEST_ID_MAX = 256;

export const QuerySubmitted = defineEvent(
  'QuerySubmitted',
  'query',
  z.object({
    ...QueryRef,
    sessionPublicId: z.string().uuid(),
    userName: z.string().min(1),
    userQuery: z.string().min(1),
    driver: z.string().min(1),
    driverQuery: z.string().min(1),
    conf: z.record(z.string(), z.string()),
    queryName: z.string().max(QUERY_NAME_MAX),
    priority: z.enum(['VERY_HIGH', 'HIGH', 'NORMAL', 'LOW', 'VERY_LOW']),
    persistent: z.boolean(),
    clientRequestId: z.string().max(CLIENT_REQUEST_ID_MAX).optional(),
    /** Said, not ignored: session resources this driver cannot use (jars on SQL engines). */
    warnings: z.array(z.string()),
  }),
);

export const QueryConfUpdated = defineEvent('QueryConfUpdated', 'query', z.object({ ...QueryRef, conf: z.record(z.string(), z.string()) }));

/** Who runs an attempt: recorded before any work starts. */
const Executor = {
  ...QueryRef,
  ...Attempt,
  sessionPublicId: z.string().uuid(),
  driver: z.string().min(1),
  executorNodeId: z.string().min(1),
  executorIncarnation: z.string().uuid(),
};

/** A node took the query. */
export const QueryLaunched = defineEvent('QueryLaunched', 'query', z.object(Executor));

export const QueryRunning = defineEvent(
  'QueryRunning',
  'query',
  z.object({ ...QueryRef, ...Attempt, progress: z.number().min(0).max(1), progressMessage: z.string().max(4096) }),
);

export const QueryExecuted = defineEvent('QueryExecuted', 'query', z.object({ ...QueryRef, ...Attempt, rowCount: z.number().int().nonnegative() }));

/** Where a persisted result lies in the shared result store, and what it holds. */
export const PersistedResult = z.object({
  /** Relative to the store's root, so every node finds it under its own mount. */
  path: z.string().min(1).max(1024),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  gzip: z.boolean(),
  /** Whether the first line holds the column names (lens.query.output.write.header). */
  header: z.boolean().default(false),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  /** Its rows as quarry.v1 RowBatches, encoded once beside the CSV (ADR 20); absent from older builds' results. */
  rowBatches: z.object({ path: z.string().min(1).max(1024), bytes: z.number().int().nonnegative() }).optional(),
});

export type PersistedResultInfo = z.infer<typeof PersistedResult>;

/** A result kept in the memory of the node that ran the query, until `expiresAt` or that node ends. */
export const HeldResult = z.object({
  nodeId: z.string().min(1).max(128),
  incarnation: z.string().uuid(),
  expiresAt: z.string().datetime({ offset: true }),
  bytes: z.number().int().nonnegative(),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
});

export type HeldResultInfo = z.infer<typeof HeldResult>;

export const QuerySucceeded = defineEvent(
  'QuerySucceeded',
  'query',
  z.object({
    ...QueryRef,
    ...Attempt,
    resultAvailable: z.boolean(),
    rowCount: z.number().int().nonnegative(),
    persisted: PersistedResult.optional(),
    held: HeldResult.optional(),
  }),
);

const FailureMessage = { attempt: z.number().int().nonnegative(), message: z.string().min(1).max(65_536) };

/** The attempt failed (Lens's FAILING): QueryFailed follows in the same append. */
export const QueryFailing = defineEvent('QueryFailing', 'query', z.object({ ...QueryRef, ...FailureMessage }));

export const QueryFailed = defineEvent('QueryFailed', 'query', z.object({ ...QueryRef, ...FailureMessage }));

/** Why an attempt's executor is gone: declared down, stopped, started again, or drained away. */
export const ORPHAN_REASONS = ['node-down', 'node-left', 'node-restarted', 'drain'] as const;
export type OrphanReason = (typeof ORPHAN_REASONS)[number];

/**
 * The node incarnation running an attempt ended without finishing it (Lens's FAILING): the query
 * runs again under a new attempt (QueryRequeued follows in the same append), and every write of
 * the old attempt is refused from then on.
 */
export const QueryAttemptOrphaned = defineEvent(
  'QueryAttemptOrphaned',
  'query',
  z.object({
    ...QueryRef,
    ...Attempt,
    nodeId: z.string().min(1).max(128),
    incarnation: z.string().uuid(),
    reason: z.enum(ORPHAN_REASONS),
    /** The node that noticed and took the query over. */
    takenOverBy: z.string().min(1).max(128),
  }),
);

export const QueryCanceled = defineEvent('QueryCanceled', 'query', z.object({ ...QueryRef, canceledBy: z.string().min(1) }));

export const QueryClosed = defineEvent('QueryClosed', 'query', z.object({ ...QueryRef, reason: z.enum(['retention', 'client']) }));

/** A finished query's result was deleted (DELETE .../resultset): gone on every node. */
export const ResultDeleted = defineEvent('ResultDeleted', 'query', z.object({ ...QueryRef, deletedBy: z.string().min(1) }));

/** An in-memory result's time ran out (QUARRY_RESULT_TTL_SECONDS); its holder dropped the rows. */
export const ResultExpired = defineEvent('ResultExpired', 'query', z.object({ ...QueryRef, ...Attempt, nodeId: z.string().min(1) }));

/** The node holding an in-memory result ended (stopped or declared down): the rows are gone. */
export const ResultLost = defineEvent(
  'ResultLost',
  'query',
  z.object({ ...QueryRef, ...Attempt, nodeId: z.string().min(1), incarnation: z.string().uuid(), reason: z.enum(['node-left', 'node-down', 'node-restarted']) }),
);

/** FAILING -> QUEUED: the query waits for a new attempt (after QueryAttemptOrphaned). */
export const QueryRequeued = defineEvent('QueryRequeued', 'query', z.object({ ...QueryRef, reason: z.string().min(1).max(4096), requestedBy: z.string().min(1) }));

/*
 * A re-run of a SUCCESSFUL query whose in-memory result is gone (quarry.query.rerun.on.lost.result).
 * Lens's table has no way out of SUCCESSFUL but CLOSED, so a re-run never changes the status: it is
 * a new attempt recorded beside it, and the status stays SUCCESSFUL (result not available, the
 * statusMessage saying why) until the new result lands (ResultRecomputed) or the re-run fails.
 */

/** A re-run was asked for; it waits in the queue. Also appended when a re-run's executor ended (`orphaned`). */
export const ResultRerunRequested = defineEvent(
  'ResultRerunRequested',
  'query',
  z.object({
    ...QueryRef,
    reason: z.string().min(1).max(4096),
    requestedBy: z.string().min(1),
    orphaned: z
      .object({ attempt: z.number().int().positive(), nodeId: z.string().min(1).max(128), incarnation: z.string().uuid(), reason: z.enum(ORPHAN_REASONS) })
      .optional(),
  }),
);

/** A node took the re-run (a new attempt, fencing the older ones), as QueryLaunched does for a first run. */
export const ResultRerunLaunched = defineEvent('ResultRerunLaunched', 'query', z.object(Executor));

/** The re-run finished: the result is there again (held or persisted). */
export const ResultRecomputed = defineEvent(
  'ResultRecomputed',
  'query',
  z.object({ ...QueryRef, ...Attempt, rowCount: z.number().int().nonnegative(), persisted: PersistedResult.optional(), held: HeldResult.optional() }),
);

/** The re-run failed; the result stays gone and the query SUCCESSFUL, with the reason in its status. */
export const ResultRerunFailed = defineEvent('ResultRerunFailed', 'query', z.object({ ...QueryRef, ...FailureMessage }));

/**
 * An in-memory result moved to the shared result store (its holder was draining): readable from
 * every node from now on, as a persisted one.
 */
export const ResultPersisted = defineEvent(
  'ResultPersisted',
  'query',
  z.object({ ...QueryRef, ...Attempt, nodeId: z.string().min(1).max(128), persisted: PersistedResult }),
);
