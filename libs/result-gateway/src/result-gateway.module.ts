import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { HeldResultKeeper } from './held/held-result-keeper';
import { LostResultSweep } from './held/lost-result-sweep';
import { HeldResultController } from './http/held-result.controller';
import { ResultController } from './http/result.controller';
import { ResultsetPages } from './http/resultset-pages';

/**
 * The result-gateway service: result sets and their metadata from any node. Persisted results
 * come from the shared result store (QUARRY_RESULT_DIR) with their streamed download; in-memory
 * results from the node that ran the query, which keeps them until they expire.
 */
@Module({
  imports: [QueryAccessModule],
  controllers: [ResultController, HeldResultController],
  providers: [HeldResultKeeper, LostResultSweep, ResultsetPages],
})
export class ResultGatewayModule {}
