import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { ResultAccessModule } from '@quarry/result';
import { SessionAccessModule } from '@quarry/session';
import { ClusterNodesController } from './cluster/cluster-nodes.controller';
import { QueryController } from './lens/query/query.controller';
import { ResultController } from './lens/result/result.controller';
import { MetastoreController } from './lens/session/metastore.controller';
import { SessionController } from './lens/session/session.controller';

/**
 * The front door: every route a client uses (the Lens REST API under /lensapi, /cluster/nodes;
 * gRPC in grpc/), over the services' application layers (their access modules). It holds no state
 * and runs nothing in the background: a gateway-only node executes no query and holds no result.
 */
@Module({
  imports: [SessionAccessModule, QueryAccessModule, ResultAccessModule],
  controllers: [SessionController, MetastoreController, QueryController, ResultController, ClusterNodesController],
})
export class GatewayModule {}
