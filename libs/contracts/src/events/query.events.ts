import { z } from 'zod';
import { defineEvent } from './define-event';

/**
 * A query handed to a driver. `attempt` grows on every re-launch (failover, retry) and fences
 * writes from an executor whose attempt is stale.
 */
export const QueryLaunched = defineEvent(
  'QueryLaunched',
  'query',
  z.object({
    queryHandle: z.string().uuid(),
    sessionPublicId: z.string().uuid(),
    driver: z.string().min(1),
    attempt: z.number().int().positive(),
  }),
);
