import { Inject, Injectable } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { NodeDirectory } from '@quarry/membership';
import { LOGGER, NODE_IDENTITY, QUARRY_CONFIG, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Logger } from 'pino';
import { QueryCommands, type QueryState, type ResultGone } from '@quarry/query';
import { HeldResults } from '../held/held-results';

export type ResultLocation =
  | { kind: 'here' }
  | { kind: 'remote'; nodeId: string; url: string }
  | { kind: 'gone'; gone: ResultGone };

/**
 * Where a finished query's in-memory result is: on this node, on another node that is up, or
 * gone. A holder found ended is recorded as such at once (ResultLost), ahead of the sweep.
 */
@Injectable()
export class ResultLocator {
  constructor(
    private readonly held: HeldResults,
    private readonly nodes: NodeDirectory,
    private readonly queries: QueryCommands,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async locate(state: QueryState): Promise<ResultLocation> {
    if (state.resultGone) return { kind: 'gone', gone: state.resultGone };
    const holder = state.heldResult!;
    if (holder.incarnation === this.identity.incarnation) {
      // Dropped here a moment before its ResultExpired event landed.
      return this.held.has(state.handle!) ? { kind: 'here' } : { kind: 'gone', gone: { kind: 'expired', nodeId: holder.nodeId } };
    }
    if (holder.nodeId === this.identity.nodeId) return this.lost(state, holder.incarnation, 'node-restarted');
    const node = await this.nodes.find(holder.incarnation);
    // Not yet in the projection: a node that joined a moment ago. Unknown is not lost.
    if (!node) throw new LensError('RESULT_UNAVAILABLE', `node ${holder.nodeId}, which holds the result of query ${state.handle}, is not known here yet; ask again shortly`);
    if (node.state !== 'UP') return this.lost(state, holder.incarnation, node.state === 'LEFT' ? 'node-left' : 'node-down');
    return { kind: 'remote', nodeId: node.nodeId, url: node.httpUrl };
  }

  private async lost(state: QueryState, incarnation: string, reason: 'node-left' | 'node-down' | 'node-restarted'): Promise<ResultLocation> {
    await this.queries.execute(state.handle!, { type: 'LoseResult', incarnation, reason }).catch((error: Error) => {
      this.logger.warn({ err: error.message, query: state.handle }, 'could not record a lost result; the sweep will');
    });
    return { kind: 'gone', gone: { kind: 'lost', nodeId: state.heldResult!.nodeId, reason } };
  }

  /** 410, saying which node had the result, what happened to it, and how to get the rows again. */
  goneError(queryHandle: string, gone: ResultGone): LensError {
    const again =
      'submit the query again (or set quarry.query.rerun.on.lost.result=true to have it re-run when its result is asked for; ' +
      'lens.query.enable.persistent.resultset=true keeps a result in the shared store, where it survives any node)';
    switch (gone.kind) {
      case 'deleted':
        return new LensError('RESULT_GONE', `the result of query ${queryHandle} was deleted`);
      case 'expired':
        return new LensError(
          'RESULT_GONE',
          `the in-memory result of query ${queryHandle} expired on node ${gone.nodeId} after ${this.config.results.heldTtlMs / 1000} s (QUARRY_RESULT_TTL_SECONDS); ${again}`,
        );
      case 'lost':
        return new LensError('RESULT_GONE', `the in-memory result of query ${queryHandle} is gone: node ${gone.nodeId}, which held it, ${ENDED[gone.reason]}; ${again}`);
    }
  }
}

const ENDED = { 'node-left': 'was stopped', 'node-down': 'is down', 'node-restarted': 'restarted' } as const;
