import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { LeaderSweep } from '../db/leader-sweep';
import type { ProjectionRunner } from './projection-runner';

/** Lock keys of projection leaderships: this base plus a hash of the runner's group (other locks are 7_041_998_xxx). */
const PROJECTIONS_LOCK_BASE = 7_041_999_000_000;

/** How often a node that does not keep the projections tries to, and the keeper checks its lock. */
export const PROJECTIONS_TRY_MS = 2000;

/** The advisory lock of the nodes that run the same projections (one consumer group), from its name. */
export function projectionsLockKey(groupId: string): number {
  return PROJECTIONS_LOCK_BASE + (createHash('sha256').update(groupId).digest().readUInt32BE(0) % 1_000_000);
}

/**
 * Runs a node's ProjectionRunner only while the node holds the advisory lock of its projections,
 * so one node of those that keep the same projections consumes their topics, not every node: each
 * consumer costs an idle cluster a fetch and a heartbeat every poll, on the node and on the broker
 * (ADR 11, eleventh pass). The lock is a LeaderSweep's whose pass keeps the runner running; the
 * others try it every PROJECTIONS_TRY_MS. PostgreSQL frees it the moment the keeper's lock
 * connection dies (SIGKILL); the next node to try starts its runner, whose consumer joins the
 * group once the dead member's Kafka session lapses, and goes on from the positions stored in
 * PostgreSQL. Two keepers for a moment (a lock connection lost while its consumer still runs)
 * split the partitions between them; the positions keep every apply once.
 */
export class LeadingProjectionRunner {
  private readonly sweep: LeaderSweep;
  private running = false;
  private stopping?: Promise<void>;

  constructor(
    private readonly runner: ProjectionRunner,
    pool: Pool,
    logger: Logger,
    /** Wraps the runner's start, so its consumer's work runs in a context of its own (the node's statement attribution). */
    private readonly startIn: (start: () => Promise<void>) => Promise<void> = (start) => start(),
    private readonly tryEveryMs = PROJECTIONS_TRY_MS,
  ) {
    this.sweep = new LeaderSweep(pool, projectionsLockKey(runner.groupId), `projections ${runner.groupId}`, logger, () => this.keep(), () => void this.stopRunner());
  }

  /** Whether this node runs the projections now. */
  get keeping(): boolean {
    return this.running;
  }

  /** Tries once (the runner started before this resolves if the lock was free), then every tryEveryMs. */
  async start(): Promise<void> {
    await this.sweep.runNow();
    this.sweep.start(this.tryEveryMs);
  }

  async stop(): Promise<void> {
    await this.sweep.stop();
    await this.stopRunner();
  }

  /** The sweep's pass, run while this node holds the lock: the runner started if it is not. */
  private async keep(): Promise<void> {
    // A runner stopped on a lost lock finishes leaving its group before it may start again.
    await this.stopping;
    if (this.running) return;
    try {
      await this.startIn(() => this.runner.start());
    } catch (error) {
      // Kafka away: give the lock back so a node that can run them does.
      await this.runner.stop();
      await this.sweep.release();
      throw error;
    }
    // The lock may have gone with its connection while the consumer joined.
    if (this.sweep.leads) this.running = true;
    else await this.runner.stop();
  }

  private stopRunner(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.stopping = this.runner.stop().finally(() => (this.stopping = undefined));
    return this.stopping;
  }
}
