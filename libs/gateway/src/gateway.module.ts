import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { ResultAccessModule } from '@quarry/result';
import { SessionAccessModule } from '@quarry/session';
import { ClusterNodesController } from './cluster/cluster-nodes.controller';
import { GrpcApiModule } from './grpc/grpc-api.module';
import { QueryController } from './lens/query/query.controller';
import { ResultController } from './lens/result/result.controller';
import { MetastoreController } from './lens/session/metastore.controller';
import { SessionController } from './lens/session/session.controller';

/**
 * The front door: every route a client uses (the Lens REST API under /lensapi, /cluster/nodes;
 * gRPC quarry.v1 in grpc/, served on QUARRY_GRPC_PORT by grpcServerOptions), over the services' application layers (their access modules). It holds no state
 * and runs nothing in the background: a gateway-only node executes no query and holds no result.
 */
@Module({
  imports: [SessionAccessModule, QueryAccessModule, ResultAccessModule, GrpcApiModule],
  controllers: [SessionController, MetastoreController, QueryController, ResultController, ClusterNodesController],
})
export class GatewayModule {}
