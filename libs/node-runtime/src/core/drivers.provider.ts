import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { DuckDbDriver, PgDriver, type Driver } from '@quarry/drivers';
import { DRIVERS, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, RESULT_STORE, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Logger } from 'pino';
import { FolderResultStore } from '@quarry/result';

/** The SQL engines of this node, shared by the query service (plans, costs) and the executor. */
export const driversProvider: Provider = {
  provide: DRIVERS,
  inject: [QUARRY_CONFIG, NODE_IDENTITY, LOGGER],
  useFactory: async (config: QuarryConfig, identity: NodeIdentity, logger: Logger): Promise<Driver[]> => {
    const { drivers } = config;
    const { maxValueBytes, maxRowBytes, maxBatchBytes } = config.results;
    const limits = { maxValueBytes, maxRowBytes, maxBatchBytes };
    const pg = new PgDriver('pg', {
      warehouseUrl: drivers.pgWarehouseUrl,
      maxSessions: drivers.pgMaxSessions,
      sharedMax: drivers.pgWarehousePoolMax,
      incarnation: identity.incarnation,
      statementTimeoutMs: drivers.pgStatementTimeoutMs,
      allowPrivileged: drivers.pgAllowPrivileged,
      rolePerUser: drivers.pgRolePerUser,
      limits,
    });
    await checkWarehouseRole(pg, drivers.pgAllowPrivileged, logger);
    return [pg, new DuckDbDriver('duckdb', { warehouseDir: drivers.duckdbWarehouseDir, limits })];
  },
};

/** A node does not start with a privileged warehouse role, unless told to (and then says so). */
async function checkWarehouseRole(pg: PgDriver, allowPrivileged: boolean, logger: Logger): Promise<void> {
  const check = await pg.checkRole();
  if (check.state === 'unreachable') {
    logger.warn({ err: check.reason }, 'the pg warehouse does not answer; the driver checks the role of each connection it opens');
  } else if (check.refusal) {
    await pg.close();
    throw new Error(`pg driver: ${check.refusal}`);
  }
  if (allowPrivileged) {
    const privileges = check.state === 'checked' ? check.role.privileges : 'not known yet: the warehouse does not answer';
    logger.warn({ privileges }, 'QUARRY_PG_ALLOW_PRIVILEGED=true: the pg driver runs queries even as a privileged warehouse role (superuser, server files)');
  }
}

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
