import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '@quarry/contracts';
import { NodeEventFeed } from '@quarry/eventstore';
import { SessionRepository } from './session-repository';

/**
 * Drops this node's cached copy of a session when another node appends to it, so closed and
 * changed sessions leave memory. Correctness does not hang on it: every load also asks the store for
 * events past the cached version. It listens on the node's event feed (every node needs every
 * event; a restarted node's cache is empty, so what the feed replays costs a lookup each).
 */
@Injectable()
export class SessionCacheEvictor {
  constructor(repository: SessionRepository, feed: NodeEventFeed) {
    feed.on('session', (json) => {
      const event = json as EventEnvelope<string, { publicId?: string }>;
      if (event.payload?.publicId) repository.forgetIfOlder(event.payload.publicId, event.streamVersion);
    });
  }
}
