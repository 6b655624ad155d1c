import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { ResultDeletion } from './application/result-deletion';
import { ResultsetPages } from './http/resultset-pages';

/** Results as the gateway serves them to clients (pages, wherever the rows are; deletion), without routes or sweeps. */
@Module({
  imports: [QueryAccessModule],
  providers: [ResultsetPages, ResultDeletion],
  exports: [ResultsetPages, ResultDeletion],
})
export class ResultAccessModule {}
