import { RESOURCE_TYPES, type ResourceType } from '@quarry/contracts';
import { SessionRefused } from './session.errors';

/*
 * What a session accepts from a client, checked before anything is authenticated or stored: a
 * name that reaches an event, a log line or a driver is short and plain.
 */

/** The longest user name (SessionOpened's limit). */
export const USER_NAME_MAX = 256;
/** A database is an identifier: no path, quote, space or line break can get through. */
export const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Parameter keys as Lens and Hive name them (`lens.query.output.write.header`); `=` or a newline would garble `key=value` lists. */
export const PARAM_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,255}$/;

const invalid = (message: string) => new SessionRefused({ kind: 'invalid', message });
const quoted = (text: string) => JSON.stringify(text.slice(0, 64)) + (text.length > 64 ? '...' : '');

export function checkUserName(userName: string): void {
  if (!userName) throw invalid('username is required');
  if (userName.length > USER_NAME_MAX) throw invalid(`username has ${userName.length} characters; the limit is ${USER_NAME_MAX}`);
}

export function checkDatabaseName(database: string): void {
  if (!DATABASE_NAME.test(database)) {
    throw invalid(`database name ${quoted(database)} is not valid: a letter or _, then letters, digits or _, at most 128 characters`);
  }
}

export function checkParamKey(key: string): void {
  if (!PARAM_KEY.test(key)) {
    throw invalid(`parameter key ${quoted(key)} is not valid: a letter, then letters, digits, '.', '_' or '-', at most 256 characters`);
  }
}

/** A Lens resource type, any case: jar, file, archive. */
export function resourceTypeOf(text: string): ResourceType {
  const type = text.trim().toLowerCase();
  if (!(RESOURCE_TYPES as readonly string[]).includes(type)) throw invalid(`type ${JSON.stringify(type.slice(0, 32))} is not one of ${RESOURCE_TYPES.join(', ')}`);
  return type as ResourceType;
}
