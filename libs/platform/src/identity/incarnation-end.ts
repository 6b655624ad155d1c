import type { Logger } from 'pino';

/** EX_TEMPFAIL: the exit of an incarnation the cluster ended; a supervisor starts the node again. */
export const EXIT_DECLARED_DOWN = 75;

/**
 * How this incarnation ends when the cluster, not the node, decides it: declared down while it
 * was alive (a stall, a partition). Its work has been taken over and its appends are refused, so
 * it stops at once — no graceful close that would keep serving open keep-alive connections —
 * and comes back as a new incarnation. A node that is leaving by itself is not halted.
 */
export class IncarnationEnd {
  private leavingNow = false;

  constructor(
    private readonly logger: Logger,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  /** The node is stopping cleanly (drain, NodeLeft): its own end is expected from now on. */
  leaving(): void {
    this.leavingNow = true;
  }

  get isLeaving(): boolean {
    return this.leavingNow;
  }

  halt(why: string): void {
    if (this.leavingNow) return;
    this.leavingNow = true;
    this.logger.fatal({ exitCode: EXIT_DECLARED_DOWN }, `this node incarnation was ended by the cluster (${why}); stopping at once to start again as a new one`);
    this.exit(EXIT_DECLARED_DOWN);
  }
}
