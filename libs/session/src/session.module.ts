import { Module } from '@nestjs/common';
import { SessionExpiryService } from './expiry/session-expiry.service';
import { SessionAccessModule } from './session-access.module';

/**
 * The session service: idle expiry (one elected node) and the `sessions` projection
 * (SESSION_PROJECTIONS, run by the node). Its Lens routes are the gateway's (libs/gateway).
 */
@Module({
  imports: [SessionAccessModule],
  providers: [SessionExpiryService],
})
export class SessionModule {}
