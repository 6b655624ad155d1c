import { LensError, parseSessionHandle, type LensSessionHandle } from '@quarry/contracts';
import { BoundedCache } from '../memory/bounded-cache';

/**
 * The handles of the session ids read most recently, by their raw text. A client sends the same
 * id with every request, and reading it (XML validation, parsing, the schema) was ~6% of a node's
 * CPU on GET queries/{handle}. parseSessionHandle is pure, so a hit answers exactly what parsing
 * would; only ids read successfully are kept (a refusal is parsed again, with its reason), and
 * only short ones, so the cache stays under ~1 MB however clients pad their ids.
 */
const RECENT_MAX = 1024;
const RECENT_KEY_MAX_CHARS = 512;
const recent = new BoundedCache<string, LensSessionHandle>(RECENT_MAX);

/** The `sessionid` a Lens client sent (XML or JSON handle), or error 2001 saying why not. */
export function sessionIdFrom(raw: unknown): LensSessionHandle {
  if (raw === undefined || raw === null || raw === '') throw new LensError('SESSION_ID_NOT_PROVIDED', 'sessionid is missing');
  if (typeof raw !== 'string') throw new LensError('SESSION_ID_NOT_PROVIDED', 'sessionid must be given once, as text');
  const known = recent.use(raw);
  if (known) return known;
  const parsed = parseSessionHandle(raw);
  if (!parsed.ok) throw new LensError('SESSION_ID_NOT_PROVIDED', `sessionid cannot be read: ${parsed.reason}`);
  // Shared by every request that sends this id from now on: nobody may change it.
  const handle = Object.freeze(parsed.handle);
  if (raw.length <= RECENT_KEY_MAX_CHARS) recent.set(raw, handle);
  return handle;
}

/** A text field of a form or query, or undefined; a repeated field is refused. */
export function textField(raw: unknown, name: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw new LensError('INVALID_PARAMETER_VALUE', `${name} must be given once, as text`);
  return raw;
}

export function requiredField(raw: unknown, name: string): string {
  const value = textField(raw, name);
  if (value === undefined || value.trim() === '') throw new LensError('MISSING_PARAMETERS', `${name} is required`);
  return value;
}
