import { Queries1764000000300 } from './projection/1764000000300-queries';
import { queriesProjection } from './projection/queries.projection';

export { QueryModule } from './query.module';
export { QueryAccessModule } from './query-access.module';
export { QueryRepository } from './infrastructure/query-repository';
export { QueryResults } from './application/query-results';
export { QueryService } from './application/query.service';
export { driverSessionFor } from './application/driver-session';
export { CANCEL_CHANNEL, FINISHED_CHANNEL, QUEUE_CHANNEL, CONF } from './application/query-channels';
export { QueryRefused } from './domain/query.errors';
export type { QueryState } from './domain/query.state';
export { TRANSITIONS, canMove, QUERY_STATUSES, type QueryStatus } from './domain/query-status';
export const QUERY_MIGRATIONS = [Queries1764000000300];
export const QUERY_PROJECTIONS = [queriesProjection];
export { QueryErrorsFilter } from './http/query-errors.filter';
export { MAX_FETCH, queryHandleFrom, wholeNumber } from './http/request-fields';
export { persistentResultOf, toMetadata, toRows } from './http/lens-query.mapper';
export type { QueryView } from './application/query.service';
