import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NodeEventFeed } from '@quarry/eventstore';

/** Starts the node's event feed once every service has registered its handlers (onModuleInit at the latest). */
@Injectable()
export class NodeEventFeedHost implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly feed: NodeEventFeed) {}

  onApplicationBootstrap(): void {
    this.feed.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.feed.stop();
  }
}
