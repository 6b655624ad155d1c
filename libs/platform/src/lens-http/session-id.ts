import { LensError, parseSessionHandle, type LensSessionHandle } from '@quarry/contracts';

/** The `sessionid` a Lens client sent (XML or JSON handle), or error 2001 saying why not. */
export function sessionIdFrom(raw: unknown): LensSessionHandle {
  if (raw === undefined || raw === null || raw === '') throw new LensError('SESSION_ID_NOT_PROVIDED', 'sessionid is missing');
  if (typeof raw !== 'string') throw new LensError('SESSION_ID_NOT_PROVIDED', 'sessionid must be given once, as text');
  const parsed = parseSessionHandle(raw);
  if (!parsed.ok) throw new LensError('SESSION_ID_NOT_PROVIDED', `sessionid cannot be read: ${parsed.reason}`);
  return parsed.handle;
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
