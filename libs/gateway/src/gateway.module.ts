import { Module } from '@nestjs/common';
import { GrpcApiModule } from './grpc/grpc-api.module';

/**
 * The API gateway: the gRPC API quarry.v1 (served on QUARRY_GRPC_PORT by a node running the
 * gateway, see grpcServerOptions) over the same use cases as the Lens REST API.
 */
@Module({ imports: [GrpcApiModule] })
export class GatewayModule {}
