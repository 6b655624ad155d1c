import { Module } from '@nestjs/common';
import { SessionActivity } from './application/session-activity';
import { SessionService } from './application/session.service';
import { SessionRepository } from './infrastructure/session-repository';

/** Sessions as other services use them (queries check and read sessions), without the API. */
@Module({
  providers: [SessionRepository, SessionService, SessionActivity],
  exports: [SessionRepository, SessionService, SessionActivity],
})
export class SessionAccessModule {}
