import { z } from 'zod';
import type { StreamFamily } from '../streams';

/** One event type: its name, the family of streams it lives in, its schema and its version. */
export interface EventDefinition<TType extends string = string, TSchema extends z.ZodTypeAny = z.ZodTypeAny> {
  type: TType;
  family: StreamFamily;
  schemaVersion: number;
  payload: TSchema;
  /** Builds the event after checking the payload, so nothing malformed reaches the store. */
  create(payload: z.input<TSchema>): { type: TType; payload: z.infer<TSchema> };
}

/** Payloads built by `create`, checked there: the store need not check them again on append. */
const checked = new WeakSet<object>();

/** Whether `payload` came out of an event definition's `create` (checked against its schema then). */
export function isCheckedPayload(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && checked.has(payload);
}

export function defineEvent<TType extends string, TSchema extends z.ZodTypeAny>(
  type: TType,
  family: StreamFamily,
  payload: TSchema,
  schemaVersion = 1,
): EventDefinition<TType, TSchema> {
  return {
    type,
    family,
    schemaVersion,
    payload,
    create: (input) => {
      const parsed = payload.parse(input);
      if (typeof parsed === 'object' && parsed !== null) checked.add(parsed);
      return { type, payload: parsed };
    },
  };
}

export type PayloadOf<D> = D extends EventDefinition<string, infer S> ? z.infer<S> : never;
