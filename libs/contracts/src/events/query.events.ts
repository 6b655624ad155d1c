import { z } from 'zod';
import { defineEvent } from './define-event';

const QueryRef = { queryHandle: z.string().uuid() };
/** Every launch of a query gets the next attempt; a write from an older attempt is refused (fencing). */
const Attempt = { attempt: z.number().int().positive() };

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
    queryName: z.string().max(1024),
    priority: z.enum(['VERY_HIGH', 'HIGH', 'NORMAL', 'LOW', 'VERY_LOW']),
    persistent: z.boolean(),
    clientRequestId: z.string().max(256).optional(),
    /** Said, not ignored: session resources this driver cannot use (jars on SQL engines). */
    warnings: z.array(z.string()),
  }),
);

export const QueryConfUpdated = defineEvent('QueryConfUpdated', 'query', z.object({ ...QueryRef, conf: z.record(z.string(), z.string()) }));

/** A node took the query: the executor is recorded before any work starts. */
export const QueryLaunched = defineEvent(
  'QueryLaunched',
  'query',
  z.object({
    ...QueryRef,
    ...Attempt,
    sessionPublicId: z.string().uuid(),
    driver: z.string().min(1),
    executorNodeId: z.string().min(1),
    executorIncarnation: z.string().uuid(),
  }),
);

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
});

export type PersistedResultInfo = z.infer<typeof PersistedResult>;

export const QuerySucceeded = defineEvent(
  'QuerySucceeded',
  'query',
  z.object({
    ...QueryRef,
    ...Attempt,
    resultAvailable: z.boolean(),
    rowCount: z.number().int().nonnegative(),
    persisted: PersistedResult.optional(),
  }),
);

export const QueryFailed = defineEvent(
  'QueryFailed',
  'query',
  z.object({ ...QueryRef, attempt: z.number().int().nonnegative(), message: z.string().min(1).max(65_536) }),
);

export const QueryCanceled = defineEvent('QueryCanceled', 'query', z.object({ ...QueryRef, canceledBy: z.string().min(1) }));

export const QueryClosed = defineEvent('QueryClosed', 'query', z.object({ ...QueryRef, reason: z.enum(['retention', 'client']) }));

/** A finished query's result was deleted (DELETE .../resultset): gone on every node. */
export const ResultDeleted = defineEvent('ResultDeleted', 'query', z.object({ ...QueryRef, deletedBy: z.string().min(1) }));
