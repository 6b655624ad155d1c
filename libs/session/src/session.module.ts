import { Module } from '@nestjs/common';
import { SessionActivity } from './application/session-activity';
import { SessionService } from './application/session.service';
import { SessionExpiryService } from './expiry/session-expiry.service';
import { MetastoreController } from './http/metastore.controller';
import { SessionController } from './http/session.controller';
import { SessionCacheEvictor } from './infrastructure/session-cache-evictor';
import { SessionRepository } from './infrastructure/session-repository';

/**
 * The session service: the session aggregate, the Lens session API on /lensapi/session and
 * /lensapi/metastore/databases/current, idle expiry, and the `sessions` projection
 * (SESSION_PROJECTIONS, run by the node).
 */
@Module({
  controllers: [SessionController, MetastoreController],
  providers: [SessionRepository, SessionService, SessionActivity, SessionExpiryService, SessionCacheEvictor],
  exports: [SessionService],
})
export class SessionModule {}
