import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { NodeJoined, NodeLeft, streamId } from '@quarry/contracts';
import { PgEventStore } from '@quarry/eventstore';
import { LOGGER, NODE_IDENTITY, QUARRY_CONFIG, RUNNING_SERVICES, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Logger } from 'pino';
import { NodeHeartbeat } from '../liveness/node-heartbeat';

/**
 * Announces this incarnation to the cluster when the node is up, keeps its heartbeat going, and
 * announces its leaving on a clean stop.
 */
@Injectable()
export class MembershipService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly store: PgEventStore,
    private readonly heartbeat: NodeHeartbeat,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(RUNNING_SERVICES) private readonly services: string[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get stream(): string {
    return streamId('node', this.identity.nodeId);
  }

  async onApplicationBootstrap(): Promise<void> {
    // The first beat commits with NodeJoined: a node is never in `nodes` without a heartbeat.
    await this.store.append(
      this.stream,
      'any',
      [
        NodeJoined.create({
          nodeId: this.identity.nodeId,
          incarnation: this.identity.incarnation,
          httpUrl: this.config.advertisedUrl,
          services: this.services,
        }),
      ],
      async (tx) => void (await this.heartbeat.beat(tx)),
    );
    this.heartbeat.start(this.config.membership.heartbeatMs);
    this.logger.info({ services: this.services }, 'node joined the cluster');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.heartbeat.stop();
    try {
      await this.store.append(this.stream, 'any', [
        NodeLeft.create({ nodeId: this.identity.nodeId, incarnation: this.identity.incarnation }),
      ]);
    } catch (error) {
      // The failure detector marks a node that could not say goodbye as down.
      this.logger.warn({ err: (error as Error).message }, 'could not record NodeLeft');
    }
  }
}
