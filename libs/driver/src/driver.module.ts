import { Module } from '@nestjs/common';
import { QueryAccessModule } from '@quarry/query';
import { SessionAccessModule } from '@quarry/session';
import { QueryExecutor } from './execution/query-executor';
import { AbandonedWork } from './execution/abandoned-work';
import { HeldResultMover } from './execution/held-result-mover';
import { ResultCapture } from './execution/result-capture';

/**
 * The driver service: executes queued queries on the drivers (pg, DuckDB), at most
 * QUARRY_MAX_RUNNING_QUERIES at a time on this node, and stops them when canceled from any node;
 * draining, it hands running queries over and moves its in-memory results to the result store.
 */
@Module({ imports: [QueryAccessModule, SessionAccessModule], providers: [QueryExecutor, ResultCapture, HeldResultMover, AbandonedWork] })
export class DriverModule {}
