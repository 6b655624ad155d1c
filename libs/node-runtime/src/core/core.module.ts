import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { NodeEventFeed, PgEventStore } from '@quarry/eventstore';
import { DbPurposes, DB_POOL, DRIVERS, FastRoutes, RESULT_STORE, IncarnationEnd, KAFKA, NodeDrain, LensExceptionFilter, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, QuarryMetrics, RUNNING_SERVICES } from '@quarry/platform';
import { BalancerNotice } from '../health/balancer-notice';
import { HealthController } from '../health/health.controller';
import { MetricsController } from '../metrics/metrics.controller';
import { NODE_PROJECTION_LIST, ProjectionHost } from '../projections/projection-host';
import type { NodeContext } from './node-context';
import { NodeEventFeedHost } from './node-event-feed.host';
import { OutboxRelayHost } from './outbox-relay.host';
import { INLINE_PROJECTIONS } from '../services/service-catalog';
import { DriversCloser, driversProvider, resultStoreProvider } from './drivers.provider';

/** The node's shared infrastructure, visible to every service module. */
@Global()
@Module({})
export class CoreModule {
  static forNode(ctx: NodeContext): DynamicModule {
    const metrics = new QuarryMetrics();
    metrics.dbStatementsSource = () => ctx.statements.snapshot();
    const end = new IncarnationEnd(ctx.logger);
    const store = new PgEventStore(
      ctx.pool,
      { nodeId: ctx.identity.nodeId, nodeIncarnation: ctx.identity.incarnation },
      ctx.config.topicPrefix,
      (events) => events.forEach((e) => metrics.eventsAppended.inc({ type: e.type })),
      () => end.halt('an append was refused: the incarnation has ended'),
    ).keepInline(INLINE_PROJECTIONS);
    const shared = [
      { provide: QUARRY_CONFIG, useValue: ctx.config },
      { provide: NODE_IDENTITY, useValue: ctx.identity },
      { provide: LOGGER, useValue: ctx.logger },
      { provide: DB_POOL, useValue: ctx.pool },
      { provide: DbPurposes, useValue: ctx.statements.purposes },
      { provide: KAFKA, useValue: ctx.kafka },
      { provide: RUNNING_SERVICES, useValue: ctx.targets },
      { provide: QuarryMetrics, useValue: metrics },
      { provide: PgEventStore, useValue: store },
      { provide: IncarnationEnd, useValue: end },
      { provide: NodeEventFeed, useValue: new NodeEventFeed(ctx.kafka, ctx.config.topicPrefix, ctx.identity.nodeId, ctx.logger) },
      { provide: FastRoutes, useValue: new FastRoutes() },
      { provide: NodeDrain, useValue: new NodeDrain(ctx.config.queries.drainGraceMs, ctx.logger) },
    ];
    return {
      module: CoreModule,
      controllers: [HealthController, MetricsController],
      providers: [
        ...shared,
        { provide: NODE_PROJECTION_LIST, useValue: ctx.projections },
        { provide: APP_FILTER, useClass: LensExceptionFilter },
        ProjectionHost,
        BalancerNotice,
        OutboxRelayHost,
        NodeEventFeedHost,
        driversProvider,
        resultStoreProvider,
        DriversCloser,
      ],
      exports: [...shared.map((p) => p.provide), DRIVERS, RESULT_STORE],
    };
  }
}
