import { z } from 'zod';

/** What the event store, the outbox and Kafka carry for every event, whatever its type. */
export const EventEnvelopeSchema = z.object({
  eventId: z.string().uuid(),
  streamId: z.string().min(3),
  streamVersion: z.number().int().positive(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  payload: z.unknown(),
  nodeId: z.string().min(1),
  nodeIncarnation: z.string().min(1),
  occurredAt: z.string().datetime({ offset: true }),
  /** Position in the store's total order; known once appended. */
  globalPosition: z.number().int().positive().optional(),
});

export type EventEnvelope<TType extends string = string, TPayload = unknown> = Omit<
  z.infer<typeof EventEnvelopeSchema>,
  'type' | 'payload'
> & { type: TType; payload: TPayload };

/** An event before the store gives it a stream, version and position. */
export interface NewEvent<TType extends string = string, TPayload = unknown> {
  type: TType;
  payload: TPayload;
}
