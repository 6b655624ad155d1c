import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { HeldResultMover } from './capture/held-result-mover';
import { HeldResultKeeper } from './held/held-result-keeper';
import { LostResultSweep } from './held/lost-result-sweep';
import { HeldResultController } from './http/held-result.controller';
import { ResultAccessModule } from './result-access.module';

/**
 * The result service: what a node holding in-memory results does for the cluster. It keeps them
 * until they expire (or are deleted), records the ones lost with their node, answers its peers'
 * forwarded requests on /internal/results (cluster secret), and, draining, moves them to the
 * shared store. A node holds results in memory only if it runs this service (ResultCapture). Clients reach results through the
 * gateway (libs/gateway), which serves persisted ones from the shared store itself.
 */
@Module({
  imports: [QueryAccessModule, ResultAccessModule],
  controllers: [HeldResultController],
  providers: [HeldResultKeeper, LostResultSweep, HeldResultMover],
})
export class ResultModule {}
