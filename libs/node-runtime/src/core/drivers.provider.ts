import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { DuckDbDriver, PgDriver, type Driver } from '@quarry/drivers';
import { DRIVERS, NODE_IDENTITY, QUARRY_CONFIG, RESULT_STORE, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import { FolderResultStore } from '@quarry/result-gateway';

/** The SQL engines of this node, shared by the query service (plans, costs) and the executor. */
export const driversProvider: Provider = {
  provide: DRIVERS,
  inject: [QUARRY_CONFIG, NODE_IDENTITY],
  useFactory: (config: QuarryConfig, identity: NodeIdentity): Driver[] => {
    const limits = { maxValueBytes: config.results.maxValueBytes, maxRowBytes: config.results.maxRowBytes };
    return [
      new PgDriver('pg', { warehouseUrl: config.drivers.pgWarehouseUrl, maxSessions: config.drivers.pgMaxSessions, incarnation: identity.incarnation, limits }),
      new DuckDbDriver('duckdb', { warehouseDir: config.drivers.duckdbWarehouseDir, limits }),
    ];
  },
};

/** The shared result store every node writes persisted results to and serves them from. */
export const resultStoreProvider: Provider = {
  provide: RESULT_STORE,
  inject: [QUARRY_CONFIG],
  useFactory: (config: QuarryConfig) => new FolderResultStore(config.results.dir),
};

/** Closes every driver connection when the node stops. */
@Injectable()
export class DriversCloser implements OnApplicationShutdown {
  constructor(@Inject(DRIVERS) private readonly drivers: Driver[]) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.drivers.map((d) => d.close().catch(() => undefined)));
  }
}
