import { Inject, Injectable } from '@nestjs/common';
import { chooseDriver, type Driver, type DriverChoice, type DriverSessionSpec } from '@quarry/drivers';
import { DRIVERS, QUARRY_CONFIG, QuarryMetrics, type QuarryConfig } from '@quarry/platform';
import { DriverChoiceCache } from './driver-choice-cache';

/** Choices kept at most; each is a digest and an estimate (~200 bytes). */
const MAX_CACHED_CHOICES = 10_000;

/**
 * The driver a submitted query runs on: the one `lens.query.driver` names, else the cheapest that
 * can plan it (chooseDriver, an EXPLAIN on every driver), reusing for `QUARRY_DRIVER_CHOICE_TTL_MS`
 * the choice made for the same text, database, user and resources. A query no driver can plan is
 * refused every time (never remembered). EXPLAIN and ESTIMATE plan afresh: they answer the plan.
 */
@Injectable()
export class DriverChoices {
  private readonly cache: DriverChoiceCache;
  private readonly names: string[];

  constructor(
    @Inject(DRIVERS) private readonly drivers: Driver[],
    @Inject(QUARRY_CONFIG) config: QuarryConfig,
    private readonly metrics: QuarryMetrics,
  ) {
    this.cache = new DriverChoiceCache({ ttlMs: config.queries.driverChoiceTtlMs, maxEntries: MAX_CACHED_CHOICES });
    this.names = drivers.map((d) => d.name);
  }

  async forSubmit(session: DriverSessionSpec, sql: string, named?: string): Promise<DriverChoice> {
    if (named?.trim()) {
      this.metrics.driverChoices.inc({ how: 'named' });
      return chooseDriver(this.drivers, session, sql, named);
    }
    const inputs = { sql, database: session.database, user: session.user, resourcesVersion: session.resourcesVersion, drivers: this.names };
    const cached = this.cache.get(inputs);
    const driver = cached && this.drivers.find((d) => d.name === cached.driver);
    if (cached && driver) {
      this.metrics.driverChoices.inc({ how: 'cached' });
      return { driver, estimate: cached.estimate };
    }
    const choice = await chooseDriver(this.drivers, session, sql);
    this.cache.remember(inputs, { driver: choice.driver.name, estimate: choice.estimate });
    this.metrics.driverChoices.inc({ how: 'planned' });
    return choice;
  }
}
