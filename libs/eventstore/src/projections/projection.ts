import type { QuarryEvent, StreamFamily } from '@quarry/contracts';
import type { Sql } from '../db/sql';

/**
 * A read model in PostgreSQL. `apply` runs inside the runner's transaction, together with the
 * checkpoint, so an event takes effect exactly once however often Kafka delivers it.
 */
export interface Projection {
  /** Also names its consumer group and its checkpoint rows. */
  readonly name: string;
  readonly families: readonly StreamFamily[];
  /** Tables emptied by a rebuild before the replay. */
  readonly tables: readonly string[];
  apply(tx: Sql, event: QuarryEvent): Promise<void>;
  /**
   * Set when `apply` only writes and never reads what its statements return: a Kafka batch's
   * statements then go with its COMMIT (DeferredStatements), not one round trip each.
   */
  readonly writesOnly?: boolean;
}
