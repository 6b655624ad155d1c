export { GatewayModule } from './gateway.module';
export { grpcServerOptions } from './grpc/grpc-server-options';
