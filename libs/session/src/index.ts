import { Sessions1764000000200 } from './projection/1764000000200-sessions';
import { SessionWriteModel1764000000201 } from './projection/1764000000201-session-write-model';
import { sessionsProjection } from './projection/sessions.projection';

export { SessionModule } from './session.module';
export { SessionAccessModule } from './session-access.module';
export { SessionService } from './application/session.service';
export { SessionRefused } from './domain/session.errors';
export { resourceTypeOf } from './domain/session-input';
export { ResourceRefused } from './infrastructure/resource-reader';
export { isInitScript, type SessionState, type SessionResource } from './domain/session.state';
export { SessionRepository } from './infrastructure/session-repository';
export { lensErrorFor as lensErrorForSession, SessionErrorsFilter } from './http/session-errors.filter';
export type { SessionHandle } from './application/session-handle';
export { hashPassword } from './auth/password-hash';
export { sessionsProjection };
export const SESSION_MIGRATIONS = [Sessions1764000000200, SessionWriteModel1764000000201];
export const SESSION_PROJECTIONS = [sessionsProjection];
