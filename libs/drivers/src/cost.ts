import type { CostEstimate } from './driver';

/**
 * Lens's cost buckets over a driver's own cost units (pg: planner cost, DuckDB: estimated rows
 * through the plan). Both grow roughly with the rows touched, so one scale serves both.
 */
export function costEstimate(cost: number): CostEstimate {
  const costType = cost < 1e3 ? 'VERY_LOW' : cost < 1e5 ? 'LOW' : cost < 1e7 ? 'MEDIUM' : 'HIGH';
  return { cost, costType };
}
