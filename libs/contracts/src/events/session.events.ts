import { z } from 'zod';
import { defineEvent } from './define-event';

const SessionRef = { publicId: z.string().uuid() };

/** Lens resource types; a `.sql` file of any type is also an init script for drivers. */
export const RESOURCE_TYPES = ['jar', 'file', 'archive'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** The secret id is never stored: only its sha256, so a leaked event stream opens no session. */
export const SessionOpened = defineEvent(
  'SessionOpened',
  'session',
  z.object({
    ...SessionRef,
    secretIdSha256: z.string().regex(/^[0-9a-f]{64}$/),
    userName: z.string().min(1).max(256),
    database: z.string().min(1).max(256),
    params: z.record(z.string(), z.string()),
  }),
);

export const SessionParamSet = defineEvent(
  'SessionParamSet',
  'session',
  z.object({ ...SessionRef, key: z.string().min(1).max(1024), value: z.string().max(65536) }),
);

export const DatabaseChanged = defineEvent('DatabaseChanged', 'session', z.object({ ...SessionRef, database: z.string().min(1).max(256) }));

/**
 * Every added resource (the name keeps Lens's "add jar"), with its type and content hash; the
 * bytes are stored once per hash beside the event, so every node has them.
 */
export const JarAdded = defineEvent(
  'JarAdded',
  'session',
  z.object({
    ...SessionRef,
    resourceType: z.enum(RESOURCE_TYPES),
    path: z.string().min(1).max(4096),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    sizeBytes: z.number().int().nonnegative(),
  }),
);

export const ResourceDeleted = defineEvent(
  'ResourceDeleted',
  'session',
  z.object({ ...SessionRef, resourceType: z.enum(RESOURCE_TYPES), path: z.string().min(1).max(4096) }),
);

export const SessionClosed = defineEvent('SessionClosed', 'session', z.object({ ...SessionRef }));

/** Appended by the one node that holds the expiry lock, when a session stayed idle too long. */
export const SessionExpired = defineEvent(
  'SessionExpired',
  'session',
  z.object({ ...SessionRef, idleSince: z.string().datetime({ offset: true }), idleTimeoutMs: z.number().int().positive() }),
);
