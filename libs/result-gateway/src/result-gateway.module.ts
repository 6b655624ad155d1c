import { Module } from '@nestjs/common';

/**
 * The result-gateway service. It serves result sets from the shared store or the holding node; it lands with the results issue.
 * Running it today puts the service on this node's /health list and in its NodeJoined event.
 */
@Module({})
export class ResultGatewayModule {}
