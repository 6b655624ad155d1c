import { randomUUID } from 'node:crypto';
import type { NewEvent, QuarryEvent } from '@quarry/contracts';

/**
 * For decider tests: folds new events into a state through `evolve`, wrapping each in the
 * envelope the store would give it (the next version of `stream`, now, node L1).
 */
export function folder<S>(stream: string, evolve: (state: S, event: QuarryEvent) => S) {
  let version = 0;
  return (state: S, events: NewEvent[]): S =>
    events.reduce(
      (s, e) =>
        evolve(s, {
          ...e,
          eventId: randomUUID(),
          streamId: stream,
          streamVersion: ++version,
          schemaVersion: 1,
          nodeId: 'L1',
          nodeIncarnation: randomUUID(),
          occurredAt: new Date().toISOString(),
        } as QuarryEvent),
      state,
    );
}
