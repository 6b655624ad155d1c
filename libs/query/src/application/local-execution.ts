import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { QueryPriority } from '../domain/query.state';

/**
 * This node's executor as the submit path sees it (the driver-bridge registers itself when it
 * runs here). A query submitted on a node with a free slot and nobody waiting is launched here
 * in the submit's own transaction, owning its work row at once: no wake-up of the other nodes, one commit fewer,
 * and its result is held where the client asked.
 */
export interface LocalExecutor {
  /** Takes a slot for this query when one is free now. */
  reserve(queryHandle: string): boolean;
  /** In the submit's transaction: this node is recorded as the executor (QueryLaunched, QueryRunning). */
  launchIn(tx: PoolClient, queryHandle: string, priority: QueryPriority): Promise<void>;
  /** After the commit: runs the launched query. */
  start(queryHandle: string): void;
  /** The reservation is not used (the transaction failed or the query went to the queue). */
  release(queryHandle: string): void;
}

@Injectable()
export class LocalExecution {
  executor?: LocalExecutor;
}
