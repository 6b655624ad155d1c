import { Module } from '@nestjs/common';
import { SessionAccessModule } from '@quarry/session';
import { DriverChoices } from './application/driver-choices';
import { QueryFinishListener } from './application/query-finish-listener';
import { LocalExecution } from './application/local-execution';
import { QueryCommands } from './application/query-commands';
import { QueryListing } from './application/query-listing';
import { QueryService } from './application/query.service';
import { QueryTakeover } from './application/query-takeover';
import { QueryRepository } from './infrastructure/query-repository';

/**
 * Queries as other services use them (the gateway's routes, the executor, results), without
 * sweeps; they write the aggregate through QueryCommands, never the repository.
 */
@Module({
  imports: [SessionAccessModule],
  providers: [QueryRepository, QueryCommands, QueryService, DriverChoices, QueryTakeover, QueryListing, QueryFinishListener, LocalExecution],
  // QueryRepository goes to the query service's own sweeps only: the lib's index does not export it.
  exports: [QueryRepository, QueryCommands, QueryService, QueryTakeover, QueryListing, LocalExecution],
})
export class QueryAccessModule {}
