import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Driver } from '@quarry/drivers';
import { NodeEndWatcher } from '@quarry/membership';
import { DRIVERS, LOGGER } from '@quarry/platform';
import type { Logger } from 'pino';

/**
 * When a node incarnation ends, the work it left in the engines (a long statement of an attempt
 * that is now taken over) is stopped where the engine allows, so it stops costing the warehouse.
 */
@Injectable()
export class AbandonedWork implements OnModuleInit {
  constructor(
    private readonly watcher: NodeEndWatcher,
    @Inject(DRIVERS) private readonly drivers: Driver[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.watcher.onEnded(async ({ nodeId, incarnation, reason }) => {
      if (reason === 'node-left') return; // a clean stop canceled its own work
      for (const driver of this.drivers) {
        const stopped = (await driver.abandon?.(incarnation)) ?? 0;
        if (stopped > 0) this.logger.info({ driver: driver.name, endedNode: nodeId, incarnation, stopped }, 'stopped the engine work an ended node left behind');
      }
    });
  }
}
