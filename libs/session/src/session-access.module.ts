import { Module } from '@nestjs/common';
import { SessionActivity } from './application/session-activity';
import { SessionService } from './application/session.service';
import { SessionCacheEvictor } from './infrastructure/session-cache-evictor';
import { SessionRepository } from './infrastructure/session-repository';

/**
 * Sessions as other services use them (the gateway's routes, queries checking and reading sessions),
 * without background work; the cache evictor goes wherever the repository's cache does.
 */
@Module({
  providers: [SessionRepository, SessionService, SessionActivity, SessionCacheEvictor],
  exports: [SessionRepository, SessionService, SessionActivity],
})
export class SessionAccessModule {}
