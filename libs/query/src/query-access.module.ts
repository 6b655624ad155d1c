import { Module } from '@nestjs/common';
import { SessionAccessModule } from '@quarry/session';
import { QueryFinishListener } from './application/query-finish-listener';
import { QueryListing } from './application/query-listing';
import { QueryResults } from './application/query-results';
import { QueryService } from './application/query.service';
import { QueryRepository } from './infrastructure/query-repository';

/** Queries as services use them (the executor, the API), without routes or sweeps. */
@Module({
  imports: [SessionAccessModule],
  providers: [QueryRepository, QueryService, QueryResults, QueryListing, QueryFinishListener],
  exports: [QueryRepository, QueryService, QueryResults, QueryListing],
})
export class QueryAccessModule {}
