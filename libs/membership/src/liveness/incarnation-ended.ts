import type { QuarryEvent } from '@quarry/contracts';

/** Whether a node stream already records the end (NodeLeft or NodeDown) of this incarnation. */
export function incarnationEnded(history: QuarryEvent[], incarnation: string): boolean {
  return history.some((e) => (e.type === 'NodeLeft' || e.type === 'NodeDown') && e.payload.incarnation === incarnation);
}
