import { Module } from '@nestjs/common';
import { NodeDirectory } from '@quarry/membership';
import { QueryAccessModule } from '@quarry/query';
import { SessionAccessModule } from '@quarry/session';
import { ResultDeletion } from './application/result-deletion';
import { ResultLocator } from './application/result-locator';
import { ResultReader } from './application/result-reader';
import { ResultCapture } from './capture/result-capture';
import { HeldResults } from './held/held-results';
import { ResultsetPages } from './http/resultset-pages';
import { KnownHolders } from './remote/known-holders';
import { PageReadAhead } from './remote/page-read-ahead';

/**
 * Results as other services use them, without routes or sweeps: the gateway reads pages (wherever
 * the rows are) and deletes; the executor captures an execution's rows (ResultCapture: this node's
 * memory, or the shared store). One HeldResults per node, whoever asks.
 */
@Module({
  imports: [QueryAccessModule, SessionAccessModule],
  providers: [HeldResults, NodeDirectory, ResultLocator, ResultReader, KnownHolders, PageReadAhead, ResultsetPages, ResultDeletion, ResultCapture],
  // HeldResults goes to the result service's own keeper and mover, not out of the lib.
  exports: [HeldResults, ResultReader, ResultsetPages, ResultDeletion, ResultCapture],
})
export class ResultAccessModule {}
