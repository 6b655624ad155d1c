import type { WireRoot } from '@quarry/contracts';
import type { Request, Response } from 'express';

/**
 * A GET's 200 answer (JSON or XML) from its query string, as Express would parse it, and the
 * path's parameter when its pattern has one; throws when it cannot answer.
 */
export type FastGetHandler = (query: Record<string, unknown>, param?: string) => Promise<WireRoot>;

/**
 * A POST route answered whole, errors included, on Express's own request and response objects but
 * without its router and Nest: once its body is read it can no longer go the full way.
 */
export type FastPostHandler = (req: Request, res: Response) => Promise<void>;

/** What a path finds: a GET's handler, with the route's pattern (its metrics label) and the parameter's value. */
export interface FastGetMatch {
  handler: FastGetHandler;
  route: string;
  param?: string;
}

/**
 * Routes a node answers ahead of Express and Nest (ADR 17): for the hottest requests, Express's and
 * Nest's per-request work was most of a node's CPU per request. Each handler is the route's own
 * code (its controller calls it too), so both paths answer the same.
 * - A GET goes the full way whenever its handler throws or the request is anything but plain: the
 *   full way answers it, errors included, exactly as before.
 * - A POST is answered by its handler, errors included, once it was taken (see FastRoutesFirst).
 */
export class FastRoutes {
  private readonly exact = new Map<string, FastGetHandler>();
  /** Patterns ending in one parameter (`/a/b/:id`), by their prefix (`/a/b/`). */
  private readonly withParam = new Map<string, { route: string; handler: FastGetHandler }>();
  private readonly posts = new Map<string, FastPostHandler>();

  /**
   * `route` as the route's pattern: an exact path (`/lensapi/session/params`), or a path whose last
   * segment is a parameter (`/lensapi/queryapi/queries/:handle`); nothing else matches it.
   */
  get(route: string, handler: FastGetHandler): void {
    const cut = route.lastIndexOf('/');
    const param = route[cut + 1] === ':';
    if (this.exact.has(route) || (param && this.withParam.has(route.slice(0, cut + 1)))) throw new Error(`a fast GET for ${route} is already there`);
    if (param) this.withParam.set(route.slice(0, cut + 1), { route, handler });
    else this.exact.set(route, handler);
  }

  /** A POST of exactly this path. */
  post(path: string, handler: FastPostHandler): void {
    if (this.posts.has(path)) throw new Error(`a fast POST for ${path} is already there`);
    this.posts.set(path, handler);
  }

  /**
   * The GET route of a request's path. A parameter is one non-empty segment, decoded as Express
   * decodes it; one that does not decode is left to Express, which answers it.
   */
  matchGet(path: string): FastGetMatch | undefined {
    const handler = this.exact.get(path);
    if (handler) return { handler, route: path };
    const cut = path.lastIndexOf('/');
    const patterned = this.withParam.get(path.slice(0, cut + 1));
    if (!patterned || cut === path.length - 1) return undefined;
    try {
      return { ...patterned, param: decodeURIComponent(path.slice(cut + 1)) };
    } catch {
      return undefined;
    }
  }

  matchPost(path: string): FastPostHandler | undefined {
    return this.posts.get(path);
  }
}
