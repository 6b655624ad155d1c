import { Module } from '@nestjs/common';
import { SessionExpiryService } from './expiry/session-expiry.service';
import { MetastoreController } from './http/metastore.controller';
import { SessionController } from './http/session.controller';
import { SessionCacheEvictor } from './infrastructure/session-cache-evictor';
import { SessionAccessModule } from './session-access.module';

/**
 * The session service: the Lens session API on /lensapi/session and
 * /lensapi/metastore/databases/current, idle expiry, the cache evictor, and the `sessions`
 * projection (SESSION_PROJECTIONS, run by the node).
 */
@Module({
  imports: [SessionAccessModule],
  controllers: [SessionController, MetastoreController],
  providers: [SessionExpiryService, SessionCacheEvictor],
})
export class SessionModule {}
