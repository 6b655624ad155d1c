import { Module } from '@nestjs/common';

/**
 * The session service. It owns the session aggregate; today it runs the `sessions` projection
 * (see SESSION_PROJECTIONS); the Lens session API lands here next.
 */
@Module({})
export class SessionModule {}
