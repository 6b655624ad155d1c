import { Module } from '@nestjs/common';
import { SessionActivity } from './application/session-activity';
import { SessionService } from './application/session.service';
import { SessionRepository } from './infrastructure/session-repository';

/**
 * Sessions as other services use them (the gateway's routes, queries checking and reading sessions),
 * without background work. No node listens for other nodes' session events: each load reads the
 * stream's tail anyway (ADR 7), and the cache is bounded (ADR 22).
 */
@Module({
  providers: [SessionRepository, SessionService, SessionActivity],
  exports: [SessionRepository, SessionService, SessionActivity],
})
export class SessionAccessModule {}
