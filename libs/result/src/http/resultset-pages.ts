import { Inject, Injectable } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { BALANCER_ROUTES_HEADER, balancerRoutesTo, HOLDER_PARAM, QUARRY_CONFIG, QuarryMetrics, reply, RESULT_STORE, sessionIdFrom, textField, type QuarryConfig } from '@quarry/platform';
import { driverRowsOf, MAX_FETCH, persistentResultOf, QueryService, queryHandleFrom, wholeNumber, type QueryView } from '@quarry/query';
import { SessionService } from '@quarry/session';
import type { Request, Response } from 'express';
import { readCsvPage } from '../store/csv-page-reader';
import { ResultReader } from '../application/result-reader';
import { passBack } from '../remote/forward-to-holder';
import { HeldResults } from '../held/held-results';
import { KnownHolders } from '../remote/known-holders';
import { PageReadAhead, ROWS_TOTAL_HEADER, rowsTotalOf, type PageAsked } from '../remote/page-read-ahead';
import { askHolder, heldResultsetRoute, holderUrl, resultsetRoute, type Holder } from '../remote/remote-results';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
    private readonly sessions: SessionService,
    private readonly reader: ResultReader,
    private readonly knownHolders: KnownHolders,
    private readonly readAhead: PageReadAhead,
    private readonly held: HeldResults,
    private readonly metrics: QuarryMetrics,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
  ) {}

  /**
   * Rows `fromindex` on, at most `fetchsize` of them (Lens ignored both; Quarry does not). A
   * persisted result answers where it lies, unless a page is asked for: then the rows of that page.
   */
  async answer(req: Request, res: Response, raw: string, remote: 'point' | 'refuse'): Promise<void> {
    if (remote === 'point' && this.config.results.fetchMode === 'forward') {
      if (this.routeToKnownHolder(req, res, raw) || (await this.answerReadAhead(req, res, raw)) || (await this.forwardToKnownHolder(req, res, raw))) return;
    }
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
        if (this.config.results.fetchMode === 'redirect') return this.sendTo(res, holderUrl(holder, resultsetRoute(view.state.handle!, query)).toString());
        this.knownHolders.remember(view.state.handle!, holder);
        if (balancerRoutesTo(req, holder.nodeId)) return this.sendTo(res, throughBalancer(view.state.handle!, query, holder));
        this.metrics.resultPages.inc({ served: 'forwarded' });
        return this.passOn(await askHolder(holder, heldResultsetRoute(view.state.handle!, query), this.config.clusterSecret, req.headers.accept), res, holder, pageOf(req, raw, from, size));
      }
      case 'persisted':
        return this.persisted(req, res, answer.view, from, size);
      case 'rows':
        // To the node that forwarded it: whether a next page follows, its cue to read ahead.
        if (remote === 'refuse') res.setHeader(ROWS_TOTAL_HEADER, String(answer.page.rowCount));
        reply(req, res, 200, { kind: 'driverRows', value: driverRowsOf(answer.page.rows, answer.page.columns) });
    }
  }

  /**
   * A page of a result whose holder this node knows, sent back through a balancer that routes to
   * that holder (ADR 21): a relative 307, so the page's bytes pass through the balancer only, not
   * through this node as well. Nothing is read here: the holder checks the session, its owner and
   * the result for every page, as for a forwarded one. The input is checked as on the full way.
   */
  private routeToKnownHolder(req: Request, res: Response, raw: string): boolean {
    if (req.headers[BALANCER_ROUTES_HEADER] === undefined) return false;
    const queryHandle = queryHandleFrom(raw);
    const holder = this.knownHolders.get(queryHandle);
    if (!holder || !balancerRoutesTo(req, holder.nodeId)) return false;
    // Re-run here since: the hint is stale, and sending the page away would bounce it back.
    if (this.held.has(queryHandle)) {
      this.knownHolders.forget(queryHandle);
      return false;
    }
    this.sendTo(res, throughBalancer(queryHandle, checkedPage(req).query, holder));
    return true;
  }

  /** A 307 to where the page is answered: the holder's URL, or the balancer's route to it. */
  private sendTo(res: Response, location: string): void {
    this.metrics.resultPages.inc({ served: 'redirected' });
    res.redirect(307, location);
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
    const { from, size, query } = checkedPage(req);
    const route = heldResultsetRoute(queryHandle, query);
    const answer = await askHolder(holder, route, this.config.clusterSecret, req.headers.accept).catch(() => undefined);
    if (answer?.statusCode !== 200) {
      answer?.resume();
      this.knownHolders.forget(queryHandle);
      return false;
    }
    this.metrics.resultPages.inc({ served: 'forwarded' });
    await this.passOn(answer, res, holder, pageOf(req, raw, from, size));
    return true;
  }

  /**
   * The page, if this node read it ahead for exactly this request (PageReadAhead): sent as the
   * holder answered it (what has arrived at once, the rest as it comes), and the next one read
   * ahead in turn. False when there is none, or its read failed: the request then goes on to the holder.
   */
  private async answerReadAhead(req: Request, res: Response, raw: string): Promise<boolean> {
    if (this.readAhead.empty) return false;
    const asked = explicitPageOf(req, raw);
    // The holder checked the session when it made the page; it is read again now (one gathered
    // statement, while the page arrives), so a session closed since gets none of it.
    const ready = asked && this.readAhead.take(asked, () => this.sessions.get(sessionIdFrom(asked.sessionId)).then(() => true));
    const page = ready && (await ready);
    if (!asked || !page) return false;
    this.metrics.resultPages.inc({ served: 'forwarded' });
    res.status(200);
    if (page.head.contentType !== undefined) res.setHeader('content-type', page.head.contentType);
    res.setHeader('content-length', page.head.length);
    // The holder is free once this page has come: the next is asked for then, while this one still goes out.
    void page.arrived.then(() => page.complete && this.readAhead.readNext(page.head.holder, asked, page.head.rowsTotal));
    await pipeline(Readable.from(page.body()), res);
    return true;
  }

  /** The holder's answer streamed back to the client; then, if it was a page of several, the next read ahead. */
  private async passOn(answer: IncomingMessage, res: Response, holder: Holder, asked: PageAsked | undefined): Promise<void> {
    await passBack(answer, res);
    if (asked && answer.statusCode === 200) this.readAhead.readNext(holder, asked, rowsTotalOf(answer));
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

/**
 * The same page through the balancer again, marked for the holder: a relative URL (the client
 * comes back the way it came, and no node's address reaches it), built from the validated handle
 * and the parsed values only, never from the client's request target.
 */
function throughBalancer(queryHandle: string, query: Record<string, string>, holder: Holder): string {
  return `${resultsetRoute(queryHandle, query).path}?${new URLSearchParams({ ...query, [HOLDER_PARAM]: holder.nodeId }).toString()}`;
}

/** The session id and page bounds, checked as on the full way, and the query values to pass on. */
function checkedPage(req: Request): { from: number; size: number; query: Record<string, string> } {
  sessionIdFrom(req.query['sessionid']);
  const sessionId = textField(req.query['sessionid'], 'sessionid')!;
  const { from, size } = pageBounds(req);
  return { from, size, query: { sessionid: sessionId, ...pageAsked(req, from, size) } };
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

/**
 * The page a client asked for, when it named both its first row and its size (a client paging
 * through a result); undefined otherwise, or when the values do not parse (the full way says why).
 */
function explicitPageOf(req: Request, raw: string): PageAsked | undefined {
  try {
    const { from, size } = pageBounds(req);
    return pageOf(req, raw, from, size);
  } catch {
    return undefined;
  }
}

/** The page asked for, named by its bounds as parsed; undefined unless the client gave both. */
function pageOf(req: Request, raw: string, from: number, size: number): PageAsked | undefined {
  if (req.query['fromindex'] === undefined || req.query['fetchsize'] === undefined) return undefined;
  const sessionId = req.query['sessionid'];
  if (typeof sessionId !== 'string') return undefined;
  return { queryHandle: queryHandleFrom(raw), sessionId, from, size, accept: req.headers.accept };
}
