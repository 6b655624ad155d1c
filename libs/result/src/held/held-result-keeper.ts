import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PgListener } from '@quarry/eventstore';
import { DB_POOL, DbPurposes, DeferredPass, LOGGER, NODE_IDENTITY, QuarryMetrics, type NodeIdentity } from '@quarry/platform';
import { QueryCommands, QueryRefused } from '@quarry/query';
import { HeldResults } from './held-results';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

/** A result was deleted on some node: its holder frees the memory at once rather than at expiry. */
export const RESULT_RELEASED_CHANNEL = 'quarry_result_released';
const PASS_MS = 1000;

/**
 * The holder's side of in-memory results: when one's time runs out it says so (ResultExpired,
 * so every node's status turns false) and drops the rows; a deleted one is dropped on notice.
 * Its pass runs every second while results are held, and not at all while none is: an idle node
 * is not woken for nothing.
 */
@Injectable()
export class HeldResultKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private listener?: PgListener;
  private readonly passes: DeferredPass;

  constructor(
    private readonly held: HeldResults,
    private readonly queries: QueryCommands,
    private readonly metrics: QuarryMetrics,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
    purposes: DbPurposes,
  ) {
    this.passes = new DeferredPass(purposes, () => this.expireDue(), () => this.held.count > 0);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.listener = new PgListener(this.pool, [RESULT_RELEASED_CHANNEL], (_channel, handle) => handle && this.held.drop(handle), 'held results', this.logger);
    await this.listener.start();
    this.metrics.heldResultsSource = () => ({ bytes: this.held.bytesUsed, count: this.held.count });
    this.held.onKept(() => this.passes.request(PASS_MS));
    this.passes.request(PASS_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.passes.stop();
    this.listener?.stop();
  }

  private async expireDue(): Promise<void> {
    const now = Date.now();
    for (const { queryHandle, attempt, expiresAt } of this.held.held()) {
      if (expiresAt > now) continue;
      try {
        await this.queries.execute(queryHandle, { type: 'ExpireResult', attempt, nodeId: this.identity.nodeId });
        this.held.drop(queryHandle);
      } catch (error) {
        // Refused: the query moved on (closed, re-run); nothing to say, only memory to free.
        if (error instanceof QueryRefused) this.held.drop(queryHandle);
        else this.logger.warn({ err: (error as Error).message, query: queryHandle }, 'could not record an expired result; retrying');
      }
    }
  }
}
