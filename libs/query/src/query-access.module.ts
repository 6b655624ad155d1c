import { Module } from '@nestjs/common';
import { NodeDirectory } from '@quarry/membership';
import { SessionAccessModule } from '@quarry/session';
import { DriverChoices } from './application/driver-choices';
import { QueryFinishListener } from './application/query-finish-listener';
import { LocalExecution } from './application/local-execution';
import { QueryListing } from './application/query-listing';
import { QueryService } from './application/query.service';
import { QueryTakeover } from './application/query-takeover';
import { QueryRepository } from './infrastructure/query-repository';
import { HeldResults } from './results/held-results';
import { ResultLocator } from './results/result-locator';
import { ResultReader } from './results/result-reader';

/** Queries as services use them (the executor, the API, results), without routes or sweeps. */
@Module({
  imports: [SessionAccessModule],
  providers: [QueryRepository, QueryService, DriverChoices, QueryTakeover, QueryListing, QueryFinishListener, LocalExecution, HeldResults, NodeDirectory, ResultLocator, ResultReader],
  exports: [QueryRepository, QueryService, QueryTakeover, QueryListing, LocalExecution, HeldResults, ResultLocator, ResultReader],
})
export class QueryAccessModule {}
