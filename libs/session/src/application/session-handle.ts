import { createHash, timingSafeEqual } from 'node:crypto';

export interface SessionHandle {
  publicId: string;
  secretId: string;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(secretId: string, storedSha256: string | undefined): boolean {
  if (!storedSha256) return false;
  const presented = Buffer.from(sha256Hex(secretId), 'hex');
  const stored = Buffer.from(storedSha256, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
