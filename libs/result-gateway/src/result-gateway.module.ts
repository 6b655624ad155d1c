import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { ResultController } from './http/result.controller';

/**
 * The result-gateway service: result sets and their metadata from any node, persisted results
 * from the shared result store (QUARRY_RESULT_DIR) with their streamed download.
 */
@Module({ imports: [QueryAccessModule], controllers: [ResultController] })
export class ResultGatewayModule {}
