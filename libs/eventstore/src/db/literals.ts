import { escapeLiteral } from 'pg';

/**
 * Values written into a statement's text, for statements sent without parameters: only those can
 * share a round trip with others (a BEGIN, a COMMIT) in one simple query. Each is quoted or
 * checked here, never pasted as it came.
 */
export const sqlText = (value: string): string => escapeLiteral(value);

export const sqlTextArray = (values: readonly string[]): string => `ARRAY[${values.map(escapeLiteral).join(', ')}]::text[]`;

export function sqlInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}

export const sqlIntArray = (values: readonly number[]): string => `ARRAY[${values.map(sqlInt).join(', ')}]::int[]`;

/** A bigint given as a string (a Kafka offset), checked by BigInt. */
export const sqlBigint = (value: string | bigint): string => `${BigInt(value).toString()}::bigint`;

export const sqlBool = (value: boolean): string => (value ? 'TRUE' : 'FALSE');
