import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { ResultAccessModule } from '@quarry/result';
import { SessionAccessModule } from '@quarry/session';
import { ClusterGrpcController } from './cluster.grpc';
import { QueryGrpcController } from './query.grpc';
import { ResultBatches } from './result-batches';
import { SessionGrpcController } from './session.grpc';

/** quarry.v1's handlers; the node serves them on QUARRY_GRPC_PORT (grpcServerOptions). */
@Module({
  imports: [SessionAccessModule, QueryAccessModule, ResultAccessModule],
  controllers: [SessionGrpcController, QueryGrpcController, ClusterGrpcController],
  providers: [ResultBatches],
})
export class GrpcApiModule {}
