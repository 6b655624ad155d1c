import type { WireRoot } from '@quarry/contracts';

/**
 * A GET's 200 answer (JSON or XML) from its query string, as Express would parse it, and the
 * path's parameter when its pattern has one; throws when it cannot answer.
 */
export type FastGetHandler = (query: Record<string, unknown>, param?: string) => Promise<WireRoot>;

/** The handler a path finds, with the route's pattern (its metrics label) and the parameter's value. */
export interface FastGetMatch {
  handler: FastGetHandler;
  route: string;
  param?: string;
}

/**
 * GET routes a node answers ahead of Express and Nest when all goes well (ADR 17): for the hottest
 * reads, Express's and Nest's per-request work was most of a node's CPU per request. The handler is
 * the route's own (its controller calls it too), so both paths answer the same; whenever it throws,
 * or the request is anything but plain, the request goes the full way, which answers it — errors
 * included — exactly as before.
 */
export class FastGets {
  private readonly exact = new Map<string, FastGetHandler>();
  /** Patterns ending in one parameter (`/a/b/:id`), by their prefix (`/a/b/`). */
  private readonly withParam = new Map<string, { route: string; handler: FastGetHandler }>();

  /**
   * `route` as the route's pattern: an exact path (`/lensapi/session/params`), or a path whose last
   * segment is a parameter (`/lensapi/queryapi/queries/:handle`); nothing else matches it.
   */
  add(route: string, handler: FastGetHandler): void {
    const cut = route.lastIndexOf('/');
    const param = route[cut + 1] === ':';
    if (this.exact.has(route) || (param && this.withParam.has(route.slice(0, cut + 1)))) throw new Error(`a fast GET for ${route} is already there`);
    if (param) this.withParam.set(route.slice(0, cut + 1), { route, handler });
    else this.exact.set(route, handler);
  }

  /**
   * The match of a request's path. A parameter is one non-empty segment, decoded as Express decodes
   * it; one that does not decode is left to Express, which answers it.
   */
  match(path: string): FastGetMatch | undefined {
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
}
