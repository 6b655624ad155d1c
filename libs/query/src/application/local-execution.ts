import { Injectable } from '@nestjs/common';
import type { Loaded } from '@quarry/eventstore';
import type { SessionState } from '@quarry/session';
import type { QueryCommand } from '../domain/query.decider';
import type { QueryState } from '../domain/query.state';
import type { WorkOwner } from '../infrastructure/query-work';

/**
 * This node's executor as the submit path sees it (the driver-bridge registers itself when it
 * runs here). A query submitted on a node with a free slot and nobody waiting is launched here
 * in the submit's own transaction, owning its work row at once: no wake-up of the other nodes, one commit fewer,
 * and its result is held where the client asked.
 */
export interface LocalExecutor {
  /** Takes a slot for this query when one is free now. */
  reserve(queryHandle: string): boolean;
  /** Who owns the work row of a query launched here. */
  readonly owner: WorkOwner;
  /** What records this node as the executor (QueryLaunched, QueryRunning), decided with the submit. */
  launchCommand(): QueryCommand;
  /** In the submit's transaction, once appended: the query as launched and its session, to run after the commit without reading either again. */
  launched(queryHandle: string, query: Loaded<QueryState>, session: SessionState): void;
  /** After the commit: runs the launched query. */
  start(queryHandle: string): void;
  /** The reservation is not used (the transaction failed or the query went to the queue). */
  release(queryHandle: string): void;
}

@Injectable()
export class LocalExecution {
  executor?: LocalExecutor;
}
