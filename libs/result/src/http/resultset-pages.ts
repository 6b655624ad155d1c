import { Inject, Injectable } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { QUARRY_CONFIG, QuarryMetrics, reply, RESULT_STORE, sessionIdFrom, textField, type QuarryConfig } from '@quarry/platform';
import { driverRowsOf, MAX_FETCH, persistentResultOf, QueryService, queryHandleFrom, wholeNumber, type QueryView } from '@quarry/query';
import type { Request, Response } from 'express';
import { readCsvPage } from '../store/csv-page-reader';
import { ResultReader } from '../application/result-reader';
import { forwardToHolder, passBack } from '../remote/forward-to-holder';
import { KnownHolders } from '../remote/known-holders';
import { askHolder, heldResultsetRoute, holderUrl, resultsetRoute } from '../remote/remote-results';
import { persistedReadFailure } from './persisted-read-failure';
import type { ResultStore } from '../store/result-store';

/**
 * GET .../resultset, for a client (`point`: a result held elsewhere is forwarded to its holder or
 * redirected there) and for a peer that forwarded it (`refuse`: never forwarded twice).
 */
@Injectable()
export class ResultsetPages {
  constructor(
    private readonly queries: QueryService,
    private readonly reader: ResultReader,
    private readonly knownHolders: KnownHolders,
    private readonly metrics: QuarryMetrics,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
  ) {}

  /**
   * Rows `fromindex` on, at most `fetchsize` of them (Lens ignored both; Quarry does not). A
   * persisted result answers where it lies, unless a page is asked for: then the rows of that page.
   */
  async answer(req: Request, res: Response, raw: string, remote: 'point' | 'refuse'): Promise<void> {
    if (remote === 'point' && this.config.results.fetchMode === 'forward' && (await this.forwardToKnownHolder(req, res, raw))) return;
    const view = await this.view(req, raw);
    const { from, size } = pageBounds(req);
    if (!this.reader.answersFor(view.state)) return this.persisted(req, res, this.withResult(view), from, size);
    const sessionId = textField(req.query['sessionid'], 'sessionid')!;
    const answer = await this.reader.page(view, { session: sessionIdFrom(sessionId), sessionId, from, size, remote });
    switch (answer.kind) {
      case 'remote': {
        // Built from the validated handle, the parsed values and the holder's advertised URL only:
        // nothing of the client's request target or Host header reaches another host.
        const holder = { nodeId: answer.nodeId, url: answer.url };
        const query = { sessionid: sessionId, ...pageAsked(req, from, size) };
        if (this.config.results.fetchMode === 'redirect') return res.redirect(307, holderUrl(holder, resultsetRoute(view.state.handle!, query)).toString());
        this.knownHolders.remember(view.state.handle!, holder);
        return forwardToHolder(holder, heldResultsetRoute(view.state.handle!, query), this.config.clusterSecret, req.headers.accept, res);
      }
      case 'persisted':
        return this.persisted(req, res, answer.view, from, size);
      case 'rows':
        reply(req, res, 200, { kind: 'driverRows', value: driverRowsOf(answer.page.rows, answer.page.columns) });
    }
  }

  /**
   * A page of a result whose holder this node has forwarded to before, asked of that node at once:
   * the holder reads the session and the query and checks the owner for every forwarded page, so
   * reading them here first would be the same work twice (two round trips to PostgreSQL on this
   * node, before the holder's own). The input is checked here as on the full way. False (nothing
   * answered yet) when there is no such holder, it does not answer, or it answers anything but
   * 200 (a result gone, moved or refused): the request then goes the full way, which says why.
   */
  private async forwardToKnownHolder(req: Request, res: Response, raw: string): Promise<boolean> {
    const queryHandle = queryHandleFrom(raw);
    const holder = this.knownHolders.get(queryHandle);
    if (!holder) return false;
    sessionIdFrom(req.query['sessionid']);
    const sessionId = textField(req.query['sessionid'], 'sessionid')!;
    const { from, size } = pageBounds(req);
    const route = heldResultsetRoute(queryHandle, { sessionid: sessionId, ...pageAsked(req, from, size) });
    const answer = await askHolder(holder, route, this.config.clusterSecret, req.headers.accept).catch(() => undefined);
    if (answer?.statusCode !== 200) {
      answer?.resume();
      this.knownHolders.forget(queryHandle);
      return false;
    }
    this.metrics.resultPages.inc({ served: 'forwarded' });
    await passBack(answer, res);
    return true;
  }

  view(req: Request, raw: string): Promise<QueryView> {
    return this.queries.get(sessionIdFrom(req.query['sessionid']), queryHandleFrom(raw));
  }

  /** A result that is there; otherwise 410 saying where it went, or 400 saying why there is none. */
  withResult(view: QueryView): QueryView {
    return this.reader.withResult(view);
  }

  /**
   * Where the result lies, or, when a page is asked for, the rows of that page read from the file.
   * A result that was in memory until its holder drained is still answered as rows.
   */
  private async persisted(req: Request, res: Response, { state }: QueryView, from: number, size: number) {
    const persisted = state.persistedResult;
    if (!persisted) throw new LensError('INVALID_PARAMETER_VALUE', `query ${state.handle} has no result rows`);
    if (req.query['fromindex'] === undefined && req.query['fetchsize'] === undefined && !state.movedFromMemory) {
      reply(req, res, 200, { kind: 'persistentQueryResult', value: persistentResultOf(state.handle!, persisted) });
      return;
    }
    const rows = await this.store
      .open(persisted.path)
      .then(({ stream }) =>
        readCsvPage(stream, { gzip: persisted.gzip, header: persisted.header ?? false, columns: persisted.columns, from, size, maxRowChars: this.config.results.maxRowBytes }),
      )
      .catch((error: unknown) => {
        throw persistedReadFailure(state.handle!, error);
      });
    reply(req, res, 200, { kind: 'driverRows', value: driverRowsOf(rows, persisted.columns) });
  }
}

/** `fromindex` and `fetchsize`, checked, with their defaults. */
function pageBounds(req: Request): { from: number; size: number } {
  return {
    from: wholeNumber(req.query['fromindex'], 'fromindex', 0, 0, Number.MAX_SAFE_INTEGER),
    size: wholeNumber(req.query['fetchsize'], 'fetchsize', MAX_FETCH, 1, MAX_FETCH),
  };
}

/** The page values the client gave, parsed, to pass on: whether a page was asked for changes the answer. */
function pageAsked(req: Request, from: number, size: number): Record<string, string> {
  return {
    ...(req.query['fromindex'] !== undefined && { fromindex: String(from) }),
    ...(req.query['fetchsize'] !== undefined && { fetchsize: String(size) }),
  };
}
