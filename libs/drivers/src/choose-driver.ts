import { DriverQueryError, type CostEstimate, type Driver, type DriverSessionSpec } from './driver';

export interface DriverChoice {
  driver: Driver;
  estimate: CostEstimate;
}

/** No driver could plan the query; `reasons` holds each driver's own message. */
export class NoDriverCanRun extends DriverQueryError {
  constructor(readonly reasons: { driver: string; message: string }[]) {
    const detail = reasons.map((r) => `${r.driver}: ${r.message}`).join('; ');
    super(reasons.map((r) => r.driver).join('/') || 'none', reasons.length ? `no driver can run this query (${detail})` : 'no drivers are configured');
    this.name = 'NoDriverCanRun';
  }
}

/**
 * The driver a query runs on, as Lens chose: the one named by `lens.query.driver` when given,
 * else the cheapest of those able to plan it (a driver whose estimate throws cannot run it).
 * Costs are compared as numbers across drivers, as Lens did; ties go to the earlier driver.
 */
export async function chooseDriver(drivers: Driver[], session: DriverSessionSpec, sql: string, explicit?: string): Promise<DriverChoice> {
  const wanted = explicit?.trim();
  if (wanted) {
    const driver = drivers.find((d) => d.name === wanted);
    if (!driver) throw new DriverQueryError(wanted, `unknown driver ${wanted}; available: ${drivers.map((d) => d.name).join(', ') || 'none'}`);
    return { driver, estimate: await driver.estimate(session, sql) };
  }
  const estimates = await Promise.allSettled(drivers.map((d) => d.estimate(session, sql)));
  let best: DriverChoice | undefined;
  const reasons: { driver: string; message: string }[] = [];
  estimates.forEach((outcome, i) => {
    if (outcome.status === 'rejected') {
      reasons.push({ driver: drivers[i].name, message: outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason) });
    } else if (!best || outcome.value.cost < best.estimate.cost) {
      best = { driver: drivers[i], estimate: outcome.value };
    }
  });
  if (!best) throw new NoDriverCanRun(reasons);
  return best;
}
