import { LensError, parseLensConf } from '@quarry/contracts';
import { textField } from '@quarry/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Most rows one resultset answer carries. */
export const MAX_FETCH = 10_000;

export function queryHandleFrom(raw: string): string {
  if (!UUID.test(raw)) throw new LensError('INVALID_HANDLE', `${JSON.stringify(raw.slice(0, 64))} is not a query handle`);
  return raw.toLowerCase();
}

export function confFrom(raw: unknown): Record<string, string> {
  const parsed = parseLensConf(textField(raw, 'conf'));
  if (!parsed.ok) throw new LensError('INVALID_PARAMETER_VALUE', `conf cannot be read: ${parsed.reason}`);
  return parsed.conf;
}

/** A text field within its length limit, else 400 naming the field and the limit. */
export function limitedText(value: string | undefined, name: string, max: number): string | undefined {
  if (value !== undefined && value.length > max) throw new LensError('INVALID_PARAMETER_VALUE', `${name} has ${value.length} characters; the limit is ${max}`);
  return value;
}

export function wholeNumber(raw: unknown, name: string, fallback: number, min: number, max: number): number {
  const text = textField(raw, name);
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new LensError('INVALID_PARAMETER_VALUE', `${name} must be a whole number from ${min} to ${max}`);
  return value;
}

