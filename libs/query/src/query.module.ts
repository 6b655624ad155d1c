import { Module } from '@nestjs/common';
import { QueryAccessModule } from './query-access.module';
import { QueryRetentionService } from './retention/query-retention.service';
import { QueryTakeoverService } from './takeover/query-takeover.service';

/**
 * The query service's background work: retention and takeover of a dead node's queries. The query
 * aggregate and its Lens state machine are used through QueryAccessModule (the gateway's routes,
 * the executor); the `queries` projection is kept by every node's appends (QUERY_INLINE_PROJECTIONS, ADR 12).
 */
@Module({ imports: [QueryAccessModule], providers: [QueryRetentionService, QueryTakeoverService] })
export class QueryModule {}
