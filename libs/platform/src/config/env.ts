/** Small readers for environment values that fail loudly on a bad value instead of guessing. */
export type Env = Record<string, string | undefined>;

export function readString(env: Env, key: string, fallback: string): string {
  const value = env[key];
  return value === undefined || value === '' ? fallback : value;
}

export function readInt(env: Env, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${key}=${raw} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

export function readEnum<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T {
  const raw = readString(env, key, fallback);
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new Error(`${key}=${raw} is not one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

/** `true` or `false` (default false), nothing else. */
export function readBoolean(env: Env, key: string): boolean {
  return readEnum(env, key, ['true', 'false'] as const, 'false') === 'true';
}
