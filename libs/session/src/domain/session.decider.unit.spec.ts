import { randomUUID } from 'node:crypto';
import { folder } from '@quarry/testing';
import { decide, evolve, type SessionCommand } from './session.decider';
import { SessionRefused } from './session.errors';
import { INITIAL_SESSION, isInitScript, type SessionState } from './session.state';

const publicId = randomUUID();
const sha = 'd'.repeat(64);
const apply = folder(`session-${publicId}`, evolve);

function given(...commands: SessionCommand[]): SessionState {
  return commands.reduce((s, c) => apply(s, decide(c, s)), INITIAL_SESSION);
}

const open: SessionCommand = { type: 'OpenSession', publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: { a: '1' } };
const jar = (path: string, hash = sha): SessionCommand => ({ type: 'AddResource', resourceType: 'jar', path, sha256: hash, sizeBytes: 3 });

function refusal(command: SessionCommand, state: SessionState) {
  try {
    decide(command, state);
  } catch (error) {
    if (error instanceof SessionRefused) return error.refusal;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('session decider', () => {
  it('opens a session once', () => {
    const state = given(open);
    expect(state).toMatchObject({ status: 'open', userName: 'ana', database: 'default', params: { a: '1' }, resources: [] });
    expect(refusal(open, state)).toEqual({ kind: 'already-open' });
  });

  it('refuses every command on a session that does not exist', () => {
    for (const command of [{ type: 'SetParam', key: 'k', value: 'v' }, { type: 'CloseSession' }, jar('/x.jar')] as SessionCommand[]) {
      expect(refusal(command, INITIAL_SESSION)).toEqual({ kind: 'not-found' });
    }
  });

  it('sets parameters and changes the database, with no event when nothing changes', () => {
    const state = given(open, { type: 'SetParam', key: 'lens.x', value: 'y' }, { type: 'ChangeDatabase', database: 'sales' });
    expect(state.params).toEqual({ a: '1', 'lens.x': 'y' });
    expect(state.database).toBe('sales');
    expect(decide({ type: 'SetParam', key: 'lens.x', value: 'y' }, state)).toEqual([]);
    expect(decide({ type: 'ChangeDatabase', database: 'sales' }, state)).toEqual([]);
  });

  it('adds a resource once per content, replaces it when its content changes, deletes it', () => {
    let state = given(open, jar('/a.jar'));
    expect(decide(jar('/a.jar'), state)).toEqual([]);
    state = apply(state, decide(jar('/a.jar', 'e'.repeat(64)), state));
    expect(state.resources).toEqual([{ type: 'jar', path: '/a.jar', sha256: 'e'.repeat(64), sizeBytes: 3 }]);
    state = apply(state, decide({ type: 'DeleteResource', resourceType: 'jar', path: '/a.jar' }, state));
    expect(state.resources).toEqual([]);
    expect(refusal({ type: 'DeleteResource', resourceType: 'jar', path: '/a.jar' }, state)).toEqual({ kind: 'resource-not-found', type: 'jar', path: '/a.jar' });
  });

  it('refuses user names, databases and parameter keys that are too long or not plain', () => {
    const opened = given(open);
    const invalid = (command: SessionCommand, state: SessionState) => refusal(command, state).kind;
    expect(invalid({ ...open, userName: 'u'.repeat(257) } as SessionCommand, INITIAL_SESSION)).toBe('invalid');
    for (const database of ['../etc', 'a b', 'sales\n', 'x'.repeat(129), '']) {
      expect([database, invalid({ ...open, database } as SessionCommand, INITIAL_SESSION)]).toEqual([database, 'invalid']);
      expect([database, invalid({ type: 'ChangeDatabase', database }, opened)]).toEqual([database, 'invalid']);
    }
    for (const key of ['a=b', 'a\nb', '__proto__', '.x', 'k'.repeat(257), '']) {
      expect([key, invalid({ type: 'SetParam', key, value: 'v' }, opened)]).toEqual([key, 'invalid']);
      expect([key, invalid({ ...open, params: { [key]: 'v' } } as SessionCommand, INITIAL_SESSION)]).toEqual([key, 'invalid']);
    }
    expect(decide({ type: 'SetParam', key: 'hive.exec.dynamic-partition.mode_2', value: 'v' }, opened)).toHaveLength(1);
    expect(decide({ type: 'ChangeDatabase', database: '_Sales_2024' }, opened)).toHaveLength(1);
  });

  it('knows a .sql resource is an init script', () => {
    expect(isInitScript({ type: 'file', path: '/r/init.SQL', sha256: sha, sizeBytes: 1 })).toBe(true);
    expect(isInitScript({ type: 'jar', path: '/r/udf.jar', sha256: sha, sizeBytes: 1 })).toBe(false);
  });

  it('ends on close or expiry, and refuses everything afterwards', () => {
    const closed = given(open, { type: 'CloseSession' });
    expect(closed.status).toBe('closed');
    expect(refusal({ type: 'CloseSession' }, closed)).toEqual({ kind: 'ended', status: 'closed' });
    const expired = given(open, { type: 'ExpireSession', idleSince: new Date().toISOString(), idleTimeoutMs: 1000 });
    expect(expired.status).toBe('expired');
    expect(refusal({ type: 'SetParam', key: 'k', value: 'v' }, expired)).toEqual({ kind: 'ended', status: 'expired' });
  });
});
