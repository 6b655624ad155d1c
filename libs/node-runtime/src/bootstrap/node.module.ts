import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { MembershipModule } from '@quarry/membership';
import { CoreModule } from '../core/core.module';
import type { NodeContext } from '../core/node-context';
import { LeavingMiddleware } from '../health/leaving.middleware';
import { HttpMetricsMiddleware } from '../metrics/http-metrics.middleware';
import { SERVICE_CATALOG } from '../services/service-catalog';

/** The root module of a node: the core, membership, and the services named by its targets. */
@Module({})
export class NodeModule implements NestModule {
  static forNode(ctx: NodeContext): DynamicModule {
    return {
      module: NodeModule,
      imports: [CoreModule.forNode(ctx), MembershipModule, ...ctx.targets.map((t) => SERVICE_CATALOG[t].module)],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(HttpMetricsMiddleware, LeavingMiddleware).forRoutes('*');
  }
}
