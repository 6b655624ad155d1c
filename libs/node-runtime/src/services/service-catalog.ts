import type { Type } from '@nestjs/common';
import { DriverModule } from '@quarry/driver';
import { EVENT_STORE_MIGRATIONS, type InlineProjection, type Projection } from '@quarry/eventstore';
import { GatewayModule } from '@quarry/gateway';
import { MEMBERSHIP_INLINE_PROJECTIONS, MEMBERSHIP_MIGRATIONS } from '@quarry/membership';
import type { ServiceName } from '@quarry/platform';
import { QUERY_INLINE_PROJECTIONS, QUERY_MIGRATIONS, QUERY_PROJECTIONS, QueryModule } from '@quarry/query';
import { ResultModule } from '@quarry/result';
import { SESSION_MIGRATIONS, SESSION_PROJECTIONS, SessionModule } from '@quarry/session';

interface ServiceParts {
  module: Type;
  projections: Projection[];
}

/** What each --target brings into a node: its Nest module and the projections it keeps current. */
export const SERVICE_CATALOG: Record<ServiceName, ServiceParts> = {
  gateway: { module: GatewayModule, projections: [] },
  session: { module: SessionModule, projections: SESSION_PROJECTIONS },
  query: { module: QueryModule, projections: QUERY_PROJECTIONS },
  driver: { module: DriverModule, projections: [] },
  result: { module: ResultModule, projections: [] },
};

/** Read models every node's appends keep in their own statement (ADR 12), whatever its targets. */
export const INLINE_PROJECTIONS: InlineProjection[] = [...MEMBERSHIP_INLINE_PROJECTIONS, ...QUERY_INLINE_PROJECTIONS];

/** Every node applies the whole schema, so any node can serve any read once it is up. */
export const ALL_MIGRATIONS = [...EVENT_STORE_MIGRATIONS, ...MEMBERSHIP_MIGRATIONS, ...SESSION_MIGRATIONS, ...QUERY_MIGRATIONS];

/** Every projection, Kafka-fed or inline: what `projection:rebuild` may rebuild. */
export function allProjections(): Projection[] {
  return [...Object.values(SERVICE_CATALOG).flatMap((s) => s.projections), ...INLINE_PROJECTIONS];
}

/** The Kafka-fed projections a node with these targets keeps current (while it holds their lock). */
export function projectionsFor(targets: ServiceName[]): Projection[] {
  return targets.flatMap((t) => SERVICE_CATALOG[t].projections);
}
