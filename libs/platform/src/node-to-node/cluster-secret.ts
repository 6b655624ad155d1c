import { createHash, timingSafeEqual } from 'node:crypto';

/** Carries the cluster secret (QUARRY_CLUSTER_SECRET) on every request from one node to another. */
export const CLUSTER_SECRET_HEADER = 'x-quarry-cluster-secret';

/**
 * The secret the nodes of one cluster share. A request carrying it comes from a peer. Both sides
 * are hashed before the constant-time comparison, so neither the length of a guess nor where it
 * differs shows in the time an answer takes.
 */
export class ClusterSecret {
  private readonly digest?: Buffer;

  constructor(readonly value: string | undefined) {
    this.digest = value === undefined ? undefined : sha256(value);
  }

  /** False on a node that runs alone, without QUARRY_CLUSTER_SECRET. */
  get configured(): boolean {
    return this.digest !== undefined;
  }

  /** Whether a request's header value is this secret; never true when none is configured. */
  matches(given: unknown): boolean {
    if (this.digest === undefined || typeof given !== 'string') return false;
    return timingSafeEqual(this.digest, sha256(given));
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
