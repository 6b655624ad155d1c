import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import type { Logger } from 'pino';
import { IncarnationEnder } from './incarnation-ender';
import { answersAs } from './health-probe';

/** A node incarnation whose heartbeat stopped, as the heartbeat's statement finds it (NodeHeartbeat). */
export interface Suspect {
  node_id: string;
  incarnation: string;
  http_url: string | null;
  last_beat: Date;
  /** Silent three times the down-after time: answering HTTP no longer saves it (it cannot reach the database). */
  long_silent: boolean;
}

/**
 * Declares down the node incarnations whose heartbeat stopped. Every node runs it, with no
 * leader: a paused leader would pause detection with it. Declaring down is exactly-once however
 * many nodes race (IncarnationEnder fences the writer under its row lock). Silence is measured on
 * the database clock, from the write side (`node_heartbeats`, `event_writers`), so it works while
 * Kafka is away. A silent node that still answers its health URL as the same incarnation is
 * late, not dead (a starved pool, a long pause under load), and is left alone. The suspects come
 * with every heartbeat (one statement beats and looks), so detection costs no round trip of its own.
 */
@Injectable()
export class FailureDetectorService implements OnApplicationShutdown {
  private pass?: Promise<void>;

  constructor(
    private readonly ender: IncarnationEnder,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Looks into what the last beat found; a pass still probing (a slow /health) is not stacked with another. */
  examine(suspects: Suspect[]): void {
    if (suspects.length === 0 || this.pass) return;
    this.pass = this.detect(suspects)
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'failure detector pass failed; the next beat retries'))
      .finally(() => (this.pass = undefined));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pass;
  }

  private async detect(suspects: Suspect[]): Promise<void> {
    for (const suspect of suspects) {
      if (suspect.http_url && !suspect.long_silent && (await answersAs(suspect.http_url, suspect.incarnation, this.config.membership.probeTimeoutMs))) {
        this.logger.warn({ node: suspect.node_id, incarnation: suspect.incarnation, lastHeartbeatAt: suspect.last_beat }, 'a node is late with its heartbeat but answers; not declared down');
        continue;
      }
      await this.ender.declareDown({ nodeId: suspect.node_id, incarnation: suspect.incarnation, lastBeatAt: suspect.last_beat }, 'heartbeat-stopped');
    }
  }
}
