import {
  DatabaseChanged,
  JarAdded,
  ResourceDeleted,
  SessionClosed,
  SessionExpired,
  SessionOpened,
  SessionParamSet,
  type NewEvent,
  type QuarryEvent,
  type ResourceType,
} from '@quarry/contracts';
import { checkDatabaseName, checkParamKey, checkUserName } from './session-input';
import { SessionRefused } from './session.errors';
import { INITIAL_SESSION, type SessionState } from './session.state';

export type SessionCommand =
  | { type: 'OpenSession'; publicId: string; secretIdSha256: string; userName: string; database: string; params: Record<string, string> }
  | { type: 'SetParam'; key: string; value: string }
  | { type: 'ChangeDatabase'; database: string }
  | { type: 'AddResource'; resourceType: ResourceType; path: string; sha256: string; sizeBytes: number }
  | { type: 'DeleteResource'; resourceType: ResourceType; path: string }
  | { type: 'CloseSession' }
  | { type: 'ExpireSession'; idleSince: string; idleTimeoutMs: number };

function requireOpen(state: SessionState): string {
  if (state.status === 'none') throw new SessionRefused({ kind: 'not-found' });
  if (state.status !== 'open') throw new SessionRefused({ kind: 'ended', status: state.status });
  return state.publicId!;
}

/** decide(command, state) -> events: the session's rules, with no I/O. */
export function decide(command: SessionCommand, state: SessionState): NewEvent[] {
  if (command.type === 'OpenSession') {
    if (state.status !== 'none') throw new SessionRefused({ kind: 'already-open' });
    checkUserName(command.userName);
    checkDatabaseName(command.database);
    Object.keys(command.params).forEach(checkParamKey);
    const { type: _type, ...payload } = command;
    return [SessionOpened.create(payload)];
  }
  const publicId = requireOpen(state);
  switch (command.type) {
    case 'SetParam':
      checkParamKey(command.key);
      return state.params[command.key] === command.value ? [] : [SessionParamSet.create({ publicId, key: command.key, value: command.value })];
    case 'ChangeDatabase':
      checkDatabaseName(command.database);
      return state.database === command.database ? [] : [DatabaseChanged.create({ publicId, database: command.database })];
    case 'AddResource': {
      const same = state.resources.find((r) => r.type === command.resourceType && r.path === command.path);
      // Adding the same file again is a no-op; a changed file is added again with its new hash.
      if (same?.sha256 === command.sha256) return [];
      return [
        JarAdded.create({ publicId, resourceType: command.resourceType, path: command.path, sha256: command.sha256, sizeBytes: command.sizeBytes }),
      ];
    }
    case 'DeleteResource':
      if (!state.resources.some((r) => r.type === command.resourceType && r.path === command.path)) {
        throw new SessionRefused({ kind: 'resource-not-found', type: command.resourceType, path: command.path });
      }
      return [ResourceDeleted.create({ publicId, resourceType: command.resourceType, path: command.path })];
    case 'CloseSession':
      return [SessionClosed.create({ publicId })];
    case 'ExpireSession':
      return [SessionExpired.create({ publicId, idleSince: command.idleSince, idleTimeoutMs: command.idleTimeoutMs })];
  }
}

/** evolve(state, event) -> state: how each session event changes a session. */
export function evolve(state: SessionState, event: QuarryEvent): SessionState {
  switch (event.type) {
    case 'SessionOpened': {
      const { publicId, secretIdSha256, userName, database, params } = event.payload;
      return { ...INITIAL_SESSION, status: 'open', publicId, secretIdSha256, userName, database, params: { ...params }, openedAt: event.occurredAt };
    }
    case 'SessionParamSet':
      return { ...state, params: { ...state.params, [event.payload.key]: event.payload.value } };
    case 'DatabaseChanged':
      return { ...state, database: event.payload.database };
    case 'JarAdded': {
      const { resourceType: type, path, sha256, sizeBytes } = event.payload;
      const others = state.resources.filter((r) => !(r.type === type && r.path === path));
      return { ...state, resources: [...others, { type, path, sha256, sizeBytes }] };
    }
    case 'ResourceDeleted':
      return { ...state, resources: state.resources.filter((r) => !(r.type === event.payload.resourceType && r.path === event.payload.path)) };
    case 'SessionClosed':
      return { ...state, status: 'closed', endedAt: event.occurredAt };
    case 'SessionExpired':
      return { ...state, status: 'expired', endedAt: event.occurredAt };
    default:
      return state;
  }
}
