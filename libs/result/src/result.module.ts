import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { HeldResultKeeper } from './held/held-result-keeper';
import { LostResultSweep } from './held/lost-result-sweep';
import { HeldResultController } from './http/held-result.controller';
import { ResultAccessModule } from './result-access.module';

/**
 * The result service: what a node holding in-memory results does for the cluster. It keeps them
 * until they expire (or are deleted), records the ones lost with their node, and answers its peers'
 * forwarded requests on /internal/results (cluster secret). Clients reach results through the
 * gateway (libs/gateway), which serves persisted ones from the shared store itself.
 */
@Module({
  imports: [QueryAccessModule, ResultAccessModule],
  controllers: [HeldResultController],
  providers: [HeldResultKeeper, LostResultSweep],
})
export class ResultModule {}
