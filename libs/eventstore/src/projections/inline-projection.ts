import type { QuarryEvent, QuarryEventType, StreamFamily } from '@quarry/contracts';
import type { Sql } from '../db/sql';
import type { Projection } from './projection';

/** An event as the append writes it: its stream version is known only inside the statement. */
export type AppendingEvent = {
  [T in QuarryEventType]: Omit<Extract<QuarryEvent, { type: T }>, 'streamVersion' | 'globalPosition'>;
}[QuarryEventType];

/** How an inline projection writes its SQL: values bound as parameters, versions as expressions. */
export interface InlineSql {
  /** The placeholder (`$n`) of a bound value. */
  bind(value: unknown): string;
  /** An int expression: the stream version of the `index`-th event written, NULL if the append wrote none. */
  versionOf(index: number): string;
}

/**
 * A read model that clients read right after their own writes, kept by the append's own
 * statement instead of through Kafka (ADR 12): it commits with its events, so it is exactly-once
 * by construction, and costs no statement of its own. Kafka still carries those events to
 * whoever reacts to them. `apply` (one event, for `projection:rebuild`) runs the same write.
 */
export interface InlineProjection extends Projection {
  /**
   * One data-modifying statement for these events of one stream, in order, or none when they
   * change nothing here. It must change nothing when `versionOf` gives NULL (the append failed).
   */
  write(events: readonly AppendingEvent[], sql: InlineSql): string | undefined;
}

/** An inline projection from its write; `apply` runs it as a statement of its own. */
export function inlineProjection(parts: { name: string; families: readonly StreamFamily[]; tables: readonly string[]; write: InlineProjection['write'] }): InlineProjection {
  return {
    ...parts,
    async apply(tx: Sql, event: QuarryEvent) {
      const values: unknown[] = [];
      const bind = (value: unknown) => `$${values.push(value)}`;
      const text = parts.write([event], { bind, versionOf: () => `${bind(event.streamVersion)}::int` });
      if (text) await tx.query(text, values);
    },
  };
}
