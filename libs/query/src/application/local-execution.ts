import { Injectable } from '@nestjs/common';
import type { Loaded } from '@quarry/eventstore';
import { BoundedCache } from '@quarry/platform';
import type { SessionState } from '@quarry/session';
import type { QueryCommand } from '../domain/query.decider';
import type { QueryState } from '../domain/query.state';
import type { WorkOwner } from '../infrastructure/query-work';

/**
 * This node's executor as the submit path sees it (the driver service registers itself when it
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
  /**
   * Before the submit's append is sent, with the state it will leave: starts the engine on the
   * query (a reserved one whose result would be held here) so that its work overlaps the commit.
   * Nothing of it is recorded or answered before start(); withdraw() drops it.
   */
  prestart(queryHandle: string, state: QueryState, session: SessionState): void;
  /**
   * After prestart, before the append is sent: waits up to `windowMs` for that run. Ended well by
   * then, it answers the command recording its end (decided with the launch, so that one commit
   * records the query from submitted to succeeded, and start() records nothing more); otherwise
   * nothing, and the run goes on to be recorded after the commit as before.
   */
  endInLaunch(queryHandle: string, state: QueryState, windowMs: number): Promise<QueryCommand[] | undefined>;
  /** After the commit: runs the launched query (or goes on with what prestart began). */
  start(queryHandle: string): void;
  /** The launch did not commit: stops what prestart began and drops its rows, before the query may be queued. */
  withdraw(queryHandle: string): Promise<void>;
  /** The reservation is not used (the transaction failed or the query went to the queue). */
  release(queryHandle: string): void;
  /** Whether this node runs the query now (launched here, its end not recorded yet). */
  isRunning(queryHandle: string): boolean;
}

/** How many ended queries are kept for a wait that has not read them yet (an EXECUTE nobody waits on leaves one). */
const ENDINGS_KEPT = 1_024;

@Injectable()
export class LocalExecution {
  executor?: LocalExecutor;
  /** Queries whose end this node's executor just committed, as committed: read once by a wait here. */
  private readonly endings = new BoundedCache<string, Loaded<QueryState>>(ENDINGS_KEPT);
  private readonly endListeners: ((queryHandle: string) => void)[] = [];

  /**
   * After the commit of a query's end on this node: a wait on this node takes the state from here
   * instead of reading the stream, and is woken without the NOTIFY's round trip (which still goes
   * out, for waits on other nodes). Without a state (the end was recorded elsewhere, or not at
   * all), the waits here are only woken to look.
   */
  ended(queryHandle: string, loaded?: Loaded<QueryState>): void {
    if (loaded) this.endings.set(queryHandle, loaded);
    for (const listener of this.endListeners) listener(queryHandle);
  }

  /** The end committed here, once: a later look (a re-run may follow) reads the stream. */
  takeEnding(queryHandle: string): Loaded<QueryState> | undefined {
    return this.endings.take(queryHandle);
  }

  onEnded(listener: (queryHandle: string) => void): void {
    this.endListeners.push(listener);
  }
}
