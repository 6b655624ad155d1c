import type { Projection } from '@quarry/eventstore';
import { Queries1764000000300 } from './projection/1764000000300-queries';
import { HeldResults1764000000310 } from './projection/1764000000310-held-results';
import { QueueOwners1764000000320 } from './projection/1764000000320-queue-owners';
import { HeldResultBytes1764000000330 } from './projection/1764000000330-held-result-bytes';
import { queriesProjection } from './projection/queries.projection';

export { QueryModule } from './query.module';
export { QueryAccessModule } from './query-access.module';
export { QueryCommands } from './application/query-commands';
export { queryWork, type Orphan, type WorkOwner } from './infrastructure/query-work';
export { isQueryError, lensErrorFor } from './http/query-errors.filter';
export { QueryService } from './application/query.service';
export { QueryTakeover } from './application/query-takeover';
export { LocalExecution, type LocalExecutor } from './application/local-execution';
export { driverSessionFor } from './application/driver-session';
export { CANCEL_CHANNEL, FINISHED_CHANNEL, FINISHED_INTEREST_CLASS, finishedInterest, QUEUE_CHANNEL, CONF } from './application/query-channels';
export { QueryRefused } from './domain/query.errors';
export type { QueryCommand } from './domain/query.decider';
export type { QueryState, ResultGone } from './domain/query.state';
export { TRANSITIONS, STATUS_AFTER, canMove, firstInvalidStep, isFinished, isSettled, statusAfter, QUERY_STATUSES, type QueryStatus } from './domain/query-status';
export const QUERY_MIGRATIONS = [Queries1764000000300, HeldResults1764000000310, QueueOwners1764000000320, HeldResultBytes1764000000330];
/** Kafka-fed projections of the query service: none; `queries` is kept by the appends (ADR 12). */
export const QUERY_PROJECTIONS: Projection[] = [];
/** Kept inside every append of their families, on every node (any node may append to a query). */
export const QUERY_INLINE_PROJECTIONS = [queriesProjection];
export { QueryErrorsFilter } from './http/query-errors.filter';
export { confFrom, limitedText, MAX_FETCH, queryHandleFrom, wholeNumber } from './http/request-fields';
export { driverRowsOf, persistentResultOf, toLensQuery, toMetadata, toRows } from './http/lens-query.mapper';
export { QueryListing, type QueryFilter } from './application/query-listing';
export type { QueryView } from './application/query.service';
