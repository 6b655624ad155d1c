import { Module } from '@nestjs/common';
import { QueryController } from './http/query.controller';
import { QueryAccessModule } from './query-access.module';
import { QueryRetentionService } from './retention/query-retention.service';
import { QueryTakeoverService } from './takeover/query-takeover.service';

/**
 * The query-lifecycle service: the Lens query API (/lensapi/queryapi), the query aggregate and
 * its Lens state machine, retention, takeover of a dead node's queries; the `queries` projection
 * is kept by every node's appends (QUERY_INLINE_PROJECTIONS, ADR 12).
 */
@Module({ imports: [QueryAccessModule], controllers: [QueryController], providers: [QueryRetentionService, QueryTakeoverService] })
export class QueryModule {}
