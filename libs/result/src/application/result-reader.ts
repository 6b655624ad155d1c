import { Inject, Injectable } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { NODE_IDENTITY, QUARRY_CONFIG, QuarryMetrics, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { SessionHandle } from '@quarry/session';
import { CONF, isSettled, QueryService, type QueryState, type QueryView } from '@quarry/query';
import { HeldResults, type ResultPage } from '../held/held-results';
import { fetchHeldPage } from '../remote/remote-results';
import { ResultLocator } from './result-locator';

export interface PageRequest {
  session: SessionHandle;
  /** The session id as the client sent it, passed on to the holder. */
  sessionId: string;
  from: number;
  size: number;
  /**
   * What to do when another node holds the rows: `fetch` them (as plain values), `point` to the
   * holder (the caller forwards the client's own request or redirects it), or `refuse` (this
   * request was already forwarded here: never forward twice).
   */
  remote: 'fetch' | 'point' | 'refuse';
}

export type PageAnswer =
  | { kind: 'rows'; page: ResultPage }
  | { kind: 'remote'; url: string; nodeId: string }
  /** A re-run whose result went to the shared store (it outgrew memory). */
  | { kind: 'persisted'; view: QueryView };

/**
 * Pages of a finished query's in-memory result from whichever node asked: from this node's memory,
 * from the holder (forwarded), or, when the result is gone, a 410 that says so, or a re-run when
 * the query or the server asks for one.
 */
@Injectable()
export class ResultReader {
  constructor(
    private readonly queries: QueryService,
    private readonly locator: ResultLocator,
    private readonly held: HeldResults,
    private readonly metrics: QuarryMetrics,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
  ) {}

  /**
   * Whether this reader answers for the query's rows: an in-memory result, one that expired or
   * was lost (a 410, or a re-run), or a re-run under way. Otherwise the result is persisted or
   * there is none.
   */
  answersFor(state: QueryState): boolean {
    if (rerunning(state)) return true;
    if (state.status !== 'SUCCESSFUL') return false;
    const gone = state.resultGone?.kind;
    return gone === 'expired' || gone === 'lost' || (state.resultAvailable && state.heldResult !== undefined);
  }

  async page(view: QueryView, request: PageRequest): Promise<PageAnswer> {
    const state = view.state;
    const queryHandle = state.handle!;
    if (rerunning(state)) return this.afterRerun(queryHandle, request);
    const location = await this.locator.locate(state);
    switch (location.kind) {
      case 'here':
        this.metrics.resultPages.inc({ served: 'here' });
        return { kind: 'rows', page: this.held.page(queryHandle, request.from, request.size) ?? this.gone(queryHandle, { kind: 'expired', nodeId: this.identity.nodeId }) };
      case 'remote':
        if (request.remote === 'refuse') throw new LensError('RESULT_UNAVAILABLE', `node ${this.identity.nodeId} does not hold the result of query ${queryHandle}`);
        // Pointed to, the caller counts how it answered (forwarded, or sent to the holder).
        if (request.remote === 'point') return { kind: 'remote', url: location.url, nodeId: location.nodeId };
        this.metrics.resultPages.inc({ served: 'forwarded' });
        return {
          kind: 'rows',
          page: await fetchHeldPage(location, queryHandle, {
            sessionId: request.sessionId,
            from: request.from,
            size: request.size,
            clusterSecret: this.config.clusterSecret,
          }),
        };
      case 'gone': {
        const gone = location.gone;
        this.metrics.resultPages.inc({ served: 'gone' });
        if (gone.kind === 'deleted' || !this.rerunWanted(view)) throw this.locator.goneError(queryHandle, gone);
        const why = gone.kind === 'expired' ? `expired on node ${gone.nodeId}` : `was lost with node ${gone.nodeId} (${gone.reason})`;
        await this.queries.rerun(request.session, queryHandle, `re-run: the in-memory result ${why}`);
        return this.afterRerun(queryHandle, request);
      }
    }
  }

  /** A result that is there; otherwise 410 saying where it went, or 400 saying why there is none. */
  withResult(view: QueryView): QueryView {
    const { state } = view;
    if (state.status === 'SUCCESSFUL' && state.resultAvailable) return view;
    if (state.status === 'SUCCESSFUL' && state.resultGone) throw this.locator.goneError(state.handle!, state.resultGone);
    const why = state.errorMessage ? ` (${state.errorMessage})` : '';
    throw new LensError('INVALID_PARAMETER_VALUE', `query ${state.handle} has no result: it is ${state.status}${why}`);
  }

  private async afterRerun(queryHandle: string, request: PageRequest): Promise<PageAnswer> {
    const view = await this.queries.waitUntilFinished(request.session, queryHandle, this.config.results.rerunWaitMs);
    const { state } = view;
    if (state.status === 'SUCCESSFUL' && state.resultAvailable) {
      return state.persistedResult ? { kind: 'persisted', view } : this.page(view, request);
    }
    if (state.rerunError) throw new LensError('INVALID_PARAMETER_VALUE', `query ${queryHandle} was re-run because its result was gone, and the re-run failed: ${state.rerunError}`);
    if (isSettled(state)) {
      throw new LensError('INVALID_PARAMETER_VALUE', `query ${queryHandle} was re-run because its result was gone, and is ${state.status}${state.errorMessage ? ` (${state.errorMessage})` : ''}`);
    }
    throw new LensError('RESULT_UNAVAILABLE', `query ${queryHandle} is being re-run because its result was gone (${state.rerun?.reason}): poll its status and ask again`);
  }

  private rerunWanted({ state }: QueryView): boolean {
    const asked = state.conf[CONF.rerunOnLostResult];
    return asked === undefined ? this.config.results.rerunOnLost : asked === 'true';
  }

  private gone(queryHandle: string, gone: { kind: 'expired'; nodeId: string }): never {
    throw this.locator.goneError(queryHandle, gone);
  }
}

/** Running again because its result was gone, and not finished yet. */
function rerunning(state: QueryState): boolean {
  return state.rerun !== undefined;
}
