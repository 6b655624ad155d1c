import type { LoginLimits } from '@quarry/platform';

/** Most user names and addresses one node tracks; past it the oldest entry goes (memory stays bounded). */
export const LOGIN_LIMITER_MAX_KEYS = 100_000;

interface Tally {
  /** Failed logins since `since`, plus logins still being checked (each may fail). */
  count: number;
  since: number;
}

export type LoginAdmission = { ok: true; finish(succeeded: boolean): void } | { ok: false; retryAfterSeconds: number };

/**
 * Failed logins per user name and per client address, on this node only, in fixed windows: once
 * either has reached its limit, logins for it are refused until its window ends, before any
 * password is hashed. A login being checked counts as a failure until it succeeds, so a burst of
 * concurrent guesses is cut at the limit instead of queueing hundreds of scrypt runs.
 */
export class LoginLimiter {
  private readonly tallies = new Map<string, Tally>();

  constructor(
    private readonly limits: LoginLimits,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = LOGIN_LIMITER_MAX_KEYS,
  ) {}

  admit(userName: string, address: string): LoginAdmission {
    const now = this.now();
    const keys = [`u:${userName}`, `a:${address}`] as const;
    const limits = [this.limits.maxFailuresPerUser, this.limits.maxFailuresPerAddress];
    const tallies = keys.map((key) => this.current(key, now));
    const over = tallies.map((t, i) => (t && t.count >= limits[i] ? t : undefined)).filter((t) => t !== undefined);
    if (over.length > 0) {
      const until = Math.max(...over.map((t) => t.since + this.limits.windowMs));
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
    }
    const taken = keys.map((key, i) => this.take(key, tallies[i], now));
    return {
      ok: true,
      finish: (succeeded) => {
        if (!succeeded) return;
        // Success gives the reservation back; the user's earlier failures are forgiven, the address's are not.
        taken.forEach((tally) => (tally.count = Math.max(0, tally.count - 1)));
        this.tallies.delete(keys[0]);
      },
    };
  }

  /** Entries tracked now (for tests and metrics). */
  get size(): number {
    return this.tallies.size;
  }

  private current(key: string, now: number): Tally | undefined {
    const tally = this.tallies.get(key);
    if (tally && now - tally.since >= this.limits.windowMs) {
      this.tallies.delete(key);
      return undefined;
    }
    return tally;
  }

  private take(key: string, tally: Tally | undefined, now: number): Tally {
    if (tally) {
      tally.count++;
      return tally;
    }
    // A Map iterates in insertion order, so its first key is the oldest window.
    const oldest = this.tallies.keys().next();
    if (this.tallies.size >= this.maxKeys && !oldest.done) this.tallies.delete(oldest.value);
    const fresh = { count: 1, since: now };
    this.tallies.set(key, fresh);
    return fresh;
  }
}
