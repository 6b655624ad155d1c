import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { LOGGER, NODE_IDENTITY, NodeDrain, RESULT_STORE, type NodeIdentity } from '@quarry/platform';
import { QueryCommands } from '@quarry/query';
import { HeldResults } from '../held/held-results';
import { removePersisted, type ResultStore } from '../store/result-store';
import type { Logger } from 'pino';
import { ResultCapture } from './result-capture';

const PARALLEL_MOVES = 8;

/**
 * Draining: the in-memory results this node holds move to the shared result store
 * (ResultPersisted), so they stay readable from every node after it leaves, instead of being
 * lost with it. One that the query no longer wants (deleted, closed meanwhile) is just dropped.
 */
@Injectable()
export class HeldResultMover implements OnModuleInit {
  constructor(
    private readonly held: HeldResults,
    private readonly queries: QueryCommands,
    private readonly capture: ResultCapture,
    private readonly drain: NodeDrain,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.drain.add('in-memory results', 'results', () => this.moveAll());
  }

  async moveAll(): Promise<void> {
    const queue = this.held.held();
    let moved = 0;
    // A few at a time: each is a file write and a commit, and a busy node may hold hundreds.
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) if (await this.move(next.queryHandle, next.attempt)) moved++;
    };
    await Promise.all(Array.from({ length: PARALLEL_MOVES }, worker));
    if (moved > 0) this.logger.info({ results: moved }, 'drain: in-memory results moved to the result store');
  }

  private async move(queryHandle: string, attempt: number): Promise<boolean> {
    const page = this.held.page(queryHandle, 0, Number.MAX_SAFE_INTEGER);
    if (!page) return false;
    try {
      const { state } = await this.queries.load(queryHandle);
      const persisted = await this.capture.persistHeld(queryHandle, attempt, state, page.columns, page.rows);
      const { events } = await this.queries.execute(queryHandle, { type: 'PersistHeldResult', incarnation: this.identity.incarnation, attempt, persisted });
      if (events.length === 0) await removePersisted(this.store, persisted);
      return events.length > 0;
    } catch (error) {
      // This one will be reported lost once the node has left; the others still move.
      this.logger.warn({ err: (error as Error).message, query: queryHandle }, 'drain: could not move an in-memory result');
      return false;
    } finally {
      this.held.drop(queryHandle);
    }
  }
}
