import { randomUUID } from 'node:crypto';

/** Who wrote an event: a stable node id and a fresh incarnation for every start of the process. */
export interface NodeIdentity {
  nodeId: string;
  incarnation: string;
  startedAt: Date;
}

export function newIncarnation(nodeId: string): NodeIdentity {
  return { nodeId, incarnation: randomUUID(), startedAt: new Date() };
}
