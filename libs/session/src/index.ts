import { Sessions1764000000200 } from './projection/1764000000200-sessions';
import { sessionsProjection } from './projection/sessions.projection';

export { SessionModule } from './session.module';
export { sessionsProjection };
export const SESSION_MIGRATIONS = [Sessions1764000000200];
export const SESSION_PROJECTIONS = [sessionsProjection];
