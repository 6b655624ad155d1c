import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { ResultAccessModule } from '@quarry/result';
import { SessionAccessModule } from '@quarry/session';
import { AbandonedWork } from './execution/abandoned-work';
import { QueryExecutor } from './execution/query-executor';

/**
 * The driver service: executes queued queries on the drivers (pg, DuckDB), at most
 * QUARRY_MAX_RUNNING_QUERIES at a time on this node, and stops them when canceled from any node;
 * draining, it hands running queries over. Its rows go where ResultCapture says: held here only if
 * this node also runs `result`, else to the shared store.
 */
@Module({ imports: [QueryAccessModule, SessionAccessModule, ResultAccessModule], providers: [QueryExecutor, AbandonedWork] })
export class DriverModule {}
