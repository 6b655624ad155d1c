import { Sessions1764000000200 } from './projection/1764000000200-sessions';
import { SessionWriteModel1764000000201 } from './projection/1764000000201-session-write-model';
import { sessionsProjection } from './projection/sessions.projection';

export { SessionModule } from './session.module';
export { SessionService } from './application/session.service';
export { hashPassword } from './auth/password-hash';
export { sessionsProjection };
export const SESSION_MIGRATIONS = [Sessions1764000000200, SessionWriteModel1764000000201];
export const SESSION_PROJECTIONS = [sessionsProjection];
