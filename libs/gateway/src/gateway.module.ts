import { Module } from '@nestjs/common';

/**
 * The API gateway: the stateless public Lens REST and gRPC APIs; the routes land with the sessions and queries issues.
 * Running it today puts the service on this node's /health list and in its NodeJoined event.
 */
@Module({})
export class GatewayModule {}
