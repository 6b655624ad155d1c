import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PgListener } from '@quarry/eventstore';
import { DB_POOL, LOGGER, QUARRY_CONFIG, QuarryMetrics, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { RESULT_RELEASED_CHANNEL } from '../held/held-result-keeper';
import { ArrivingPage } from './arriving-page';
import { askHolder, heldResultsetRoute, type Holder } from './remote-results';

/** The holder's answer to a forwarded page says how many rows the whole result has (ROWS_TOTAL_HEADER): the forwarder's cue to read ahead. */
export const ROWS_TOTAL_HEADER = 'x-quarry-rows-total';

/**
 * How long a page read ahead waits for its reader. Long enough for a client between two pages,
 * short enough that a page the holder produced under a session's check is not served much later.
 */
export const READ_AHEAD_TTL_MS = 3_000;

/** The page a client asked for: its query, session id (with its secret), rows and wire format. */
export interface PageAsked {
  queryHandle: string;
  sessionId: string;
  from: number;
  size: number;
  accept: string | undefined;
}

interface Ahead {
  queryHandle: string;
  /** Settles once the holder's answer began: the page as it arrives, or undefined for anything but a 200 within the limit. */
  page: Promise<ArrivingPage | undefined>;
  /** Reserved for the page, given back once it has arrived and is no longer kept. */
  bytes: number;
  expiry: NodeJS.Timeout;
}

/**
 * Read-ahead for forwarded pages (ADR 11, "Twelfth pass"). Clients page through a result in
 * order; once page N of a forward has come from the holder, this node asks it for page N+1, while
 * N still goes out and the client reads it, so the holder's rendering overlaps the relay and the
 * client's work instead of following them. The page read ahead is served once, to the same
 * session id (secret included) asking the same rows in the same format, within
 * READ_AHEAD_TTL_MS; the holder checked that session and owner when it answered, and the session
 * is read again when the page is taken (`take`), so a session closed meanwhile gets nothing (ADR
 * 22). A deleted result's notice (RESULT_RELEASED_CHANNEL, the holder's own cue) drops the
 * result's pages, within the time a notice takes to arrive. Memory is
 * bounded (QUARRY_RESULT_READ_AHEAD_BYTES, 0 turns it off); a page nobody asks for is counted
 * (`quarry_result_read_ahead_total{outcome="expired"|"dropped"}`; `failed` when the holder did not answer with the page).
 */
@Injectable()
export class PageReadAhead implements OnApplicationShutdown {
  private readonly pages = new Map<string, Ahead>();
  private bytes = 0;
  /** Started with the first page read ahead: a node that never forwards listens to nothing more. */
  private releases?: PgListener;

  constructor(
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: QuarryMetrics,
  ) {}

  onApplicationShutdown(): void {
    this.releases?.stop();
    for (const [key, ahead] of this.pages) this.forget(key, ahead);
  }

  /** Whether any page is read ahead now: while none is, a request need not even be looked at. */
  get empty(): boolean {
    return this.pages.size === 0;
  }

  /**
   * The page read ahead for exactly this request, taken (served once); undefined if there is none.
   * It settles undefined when the holder's answer was not a page to keep (counted `failed`), or
   * when `stillAllowed` (the session checked again now, beside the page's arrival) says no (`dropped`: the page goes nowhere).
   */
  take(asked: PageAsked, stillAllowed: () => Promise<boolean>): Promise<ArrivingPage | undefined> | undefined {
    const key = keyOf(asked);
    const ahead = this.pages.get(key);
    if (!ahead) return undefined;
    this.forget(key, ahead);
    return Promise.all([ahead.page, stillAllowed().catch(() => false)]).then(([page, allowed]) => {
      if (page && !allowed) page.cancel();
      this.metrics.resultReadAhead.inc({ outcome: !page ? 'failed' : allowed ? 'used' : 'dropped' });
      return allowed ? page : undefined;
    });
  }

  /**
   * After a page of `asked` went back to the client from `holder`, whose answer said the result
   * has `rowsTotal` rows: asks the holder for the next page, unless the result ends here.
   */
  readNext(holder: Holder, asked: PageAsked, rowsTotal: number | undefined): void {
    const limit = this.config.results.readAheadBytes;
    if (limit <= 0 || rowsTotal === undefined || asked.from + asked.size >= rowsTotal) return;
    const next: PageAsked = { ...asked, from: asked.from + asked.size };
    const key = keyOf(next);
    if (this.pages.has(key)) return;
    this.listenToReleases();
    const ahead: Ahead = { queryHandle: asked.queryHandle, page: Promise.resolve(undefined), bytes: 0, expiry: setTimeout(() => this.end(key, ahead, 'expired'), READ_AHEAD_TTL_MS) };
    ahead.expiry.unref();
    ahead.page = this.fetch(holder, next, ahead).catch(() => undefined);
    this.pages.set(key, ahead);
  }

  /**
   * Asks the holder for the page; once its answer begins, the page as it arrives (its bytes kept
   * from then on, whether or not a client has taken it yet). Only a 200 whose length fits what is
   * left of QUARRY_RESULT_READ_AHEAD_BYTES is kept.
   */
  private async fetch(holder: Holder, asked: PageAsked, ahead: Ahead): Promise<ArrivingPage | undefined> {
    const query = { sessionid: asked.sessionId, fromindex: String(asked.from), fetchsize: String(asked.size) };
    const answer = await askHolder(holder, heldResultsetRoute(asked.queryHandle, query), this.config.clusterSecret, asked.accept);
    const length = Number(answer.headers['content-length'] ?? Number.NaN);
    if (answer.statusCode !== 200 || !Number.isSafeInteger(length) || this.bytes + length > this.config.results.readAheadBytes) {
      answer.destroy();
      return undefined;
    }
    ahead.bytes = length;
    this.bytes += length;
    return new ArrivingPage({ holder, contentType: answer.headers['content-type'], length, rowsTotal: rowsTotalOf(answer) }, answer);
  }

  /** A page nobody asked for in time (`expired`), or whose result was deleted (`dropped`). */
  private end(key: string, ahead: Ahead, outcome: 'expired' | 'dropped'): void {
    if (this.pages.get(key) !== ahead) return;
    this.forget(key, ahead);
    void ahead.page.then((page) => page?.cancel());
    this.metrics.resultReadAhead.inc({ outcome });
  }

  private drop(which: (ahead: Ahead) => boolean): void {
    for (const [key, ahead] of this.pages) if (which(ahead)) this.end(key, ahead, 'dropped');
  }

  private listenToReleases(): void {
    if (this.releases) return;
    this.releases = new PgListener(this.pool, [RESULT_RELEASED_CHANNEL], (_channel, handle) => this.drop((ahead) => ahead.queryHandle === handle), 'pages read ahead', this.logger);
    void this.releases.start().catch((error: Error) => this.logger.warn({ err: error.message }, 'pages read ahead: cannot listen for deleted results; they are dropped at READ_AHEAD_TTL_MS'));
  }

  /** Out of the map; its bytes are given back once it has arrived (a client that took it may still be reading it). */
  private forget(key: string, ahead: Ahead): void {
    this.pages.delete(key);
    clearTimeout(ahead.expiry);
    void ahead.page
      .then((page) => page?.arrived)
      .finally(() => {
        this.bytes -= ahead.bytes;
        ahead.bytes = 0;
      });
  }
}

/** The holder's count of the result's rows (ROWS_TOTAL_HEADER), if it gave one. */
export function rowsTotalOf(answer: IncomingMessage): number | undefined {
  const value = Number(answer.headers[ROWS_TOTAL_HEADER]);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function keyOf(asked: PageAsked): string {
  return JSON.stringify([asked.queryHandle, asked.sessionId, asked.from, asked.size, asked.accept ?? '']);
}
