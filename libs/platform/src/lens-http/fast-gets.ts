import type { WireRoot } from '@quarry/contracts';

/** A GET's 200 answer (JSON or XML) from its query string, as Express would parse it; throws when it cannot answer. */
export type FastGetHandler = (query: Record<string, unknown>) => Promise<WireRoot>;

/**
 * GET routes a node answers ahead of Express and Nest when all goes well (ADR 17): for the hottest
 * reads, Express's and Nest's per-request work was most of a node's CPU per request. The handler is
 * the route's own (its controller calls it too), so both paths answer the same; whenever it throws,
 * or the request is anything but plain, the request goes the full way, which answers it — errors
 * included — exactly as before.
 */
export class FastGets {
  private readonly handlers = new Map<string, FastGetHandler>();

  /** `path` as the route's pattern (e.g. `/lensapi/session/params`): matched exactly, nothing else. */
  add(path: string, handler: FastGetHandler): void {
    if (this.handlers.has(path)) throw new Error(`a fast GET for ${path} is already there`);
    this.handlers.set(path, handler);
  }

  handlerFor(path: string): FastGetHandler | undefined {
    return this.handlers.get(path);
  }
}
