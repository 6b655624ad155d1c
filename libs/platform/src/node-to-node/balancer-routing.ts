/**
 * Routing a result's pages to the node that holds it, at the balancer (ADR 21).
 *
 * A balancer that can route sets this header on every request it passes on, naming the node ids
 * it routes to; it drops a client's own copy first, as it drops the cluster secret. The names are
 * repeated in tools/stack/balancer.mjs and haproxy-config.mjs, which cannot import TypeScript.
 */
export const BALANCER_ROUTES_HEADER = 'x-quarry-balancer-routes';

/** The query parameter of a page sent back through the balancer: the holder's node id, which the balancer routes on. */
export const HOLDER_PARAM = 'quarry.holder';

/** The request-side facts the decision needs, as Express gives them. */
export interface RoutableRequest {
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
}

/**
 * Whether a page of a result held by `holderId` should go back through the balancer to its
 * holder: the balancer in front says it routes to that node, and this request was not routed
 * already. A routed request that reaches another node (its holder was down, or the balancer
 * could not route) is forwarded from there, never sent back again: no loop.
 */
export function balancerRoutesTo(req: RoutableRequest, holderId: string): boolean {
  if (req.query[HOLDER_PARAM] !== undefined) return false;
  const routes = req.headers[BALANCER_ROUTES_HEADER];
  if (typeof routes !== 'string') return false;
  return routes.split(',').some((id) => id.trim() === holderId);
}
