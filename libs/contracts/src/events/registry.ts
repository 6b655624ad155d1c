import { EventEnvelopeSchema, type EventEnvelope } from '../envelope';
import type { EventDefinition, PayloadOf } from './define-event';
import { NodeDown, NodeJoined, NodeLeft } from './node.events';
import {
  QueryCanceled,
  QueryClosed,
  QueryConfUpdated,
  QueryExecuted,
  QueryAttemptOrphaned,
  QueryFailed,
  QueryFailing,
  QueryLaunched,
  QueryRunning,
  QuerySubmitted,
  QueryRequeued,
  QuerySucceeded,
  ResultDeleted,
  ResultExpired,
  ResultLost,
  ResultPersisted,
  ResultRecomputed,
  ResultRerunFailed,
  ResultRerunLaunched,
  ResultRerunRequested,
} from './query.events';
import { DatabaseChanged, JarAdded, ResourceDeleted, SessionClosed, SessionExpired, SessionOpened, SessionParamSet } from './session.events';

export const EVENT_DEFINITIONS = [
  SessionOpened,
  SessionParamSet,
  DatabaseChanged,
  JarAdded,
  ResourceDeleted,
  SessionClosed,
  SessionExpired,
  QuerySubmitted,
  QueryConfUpdated,
  QueryLaunched,
  QueryRunning,
  QueryExecuted,
  QuerySucceeded,
  QueryFailing,
  QueryFailed,
  QueryAttemptOrphaned,
  QueryCanceled,
  QueryClosed,
  ResultDeleted,
  ResultExpired,
  ResultLost,
  QueryRequeued,
  ResultRerunRequested,
  ResultRerunLaunched,
  ResultRecomputed,
  ResultRerunFailed,
  ResultPersisted,
  NodeJoined,
  NodeDown,
  NodeLeft,
] as const;

type Definitions = (typeof EVENT_DEFINITIONS)[number];
export type QuarryEventType = Definitions['type'];

/** A validated envelope whose payload type follows from its `type`. */
export type QuarryEvent = {
  [D in Definitions as D['type']]: EventEnvelope<D['type'], PayloadOf<D>>;
}[QuarryEventType];

const byType = new Map<string, EventDefinition>(EVENT_DEFINITIONS.map((d) => [d.type, d]));

export function definitionOf(type: string): EventDefinition {
  const definition = byType.get(type);
  if (!definition) throw new Error(`unknown event type "${type}"`);
  return definition;
}

/** Checks an envelope read from the wire or the store: its frame, its type and its payload. */
export function parseEvent(raw: unknown): QuarryEvent {
  const envelope = EventEnvelopeSchema.parse(raw);
  const definition = definitionOf(envelope.type);
  if (envelope.schemaVersion !== definition.schemaVersion) {
    throw new Error(`${envelope.type} schema version ${envelope.schemaVersion} is not ${definition.schemaVersion}`);
  }
  return { ...envelope, payload: definition.payload.parse(envelope.payload) } as QuarryEvent;
}

/**
 * An envelope read back from Quarry's own event store, whose payload was checked when it was
 * appended: only its type is checked again, which keeps per-request loads cheap.
 */
export function storedEvent(envelope: EventEnvelope): QuarryEvent {
  definitionOf(envelope.type);
  return envelope as QuarryEvent;
}
