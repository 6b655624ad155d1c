import type { Logger } from 'pino';

/** Work first (queries finish or are handed over), then what the work left (results moved). */
export type DrainPhase = 'work' | 'results';

interface Step {
  what: string;
  phase: DrainPhase;
  run: (deadline: number) => Promise<void>;
}

/**
 * What a node does on SIGTERM before it says goodbye (NodeLeft): each service registers a step,
 * and the steps run in phase order before the node leaves, while its heartbeat still beats. A
 * failed step is logged; the node leaves anyway, and the cluster takes over what is left.
 */
export class NodeDrain {
  private readonly steps: Step[] = [];

  constructor(
    private readonly graceMs: number,
    private readonly logger: Logger,
  ) {}

  add(what: string, phase: DrainPhase, run: (deadline: number) => Promise<void>): void {
    this.steps.push({ what, phase, run });
  }

  async run(): Promise<void> {
    const deadline = Date.now() + this.graceMs;
    for (const phase of ['work', 'results'] as const) {
      for (const step of this.steps.filter((s) => s.phase === phase)) {
        const started = Date.now();
        try {
          await step.run(deadline);
          this.logger.info({ step: step.what, ms: Date.now() - started }, 'drain step done');
        } catch (error) {
          this.logger.warn({ err: (error as Error).message, step: step.what }, 'drain step failed; the cluster takes over what is left');
        }
      }
    }
  }
}
