import { z } from 'zod';
import { defineEvent } from './define-event';

const SessionRef = { publicId: z.string().uuid() };

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

/** Every added resource (jar, file, archive, sql), with its content hash so nodes can check their copy. */
export const JarAdded = defineEvent(
  'JarAdded',
  'session',
  z.object({
    ...SessionRef,
    resourceType: z.enum(['jar', 'file', 'archive', 'sql']),
    path: z.string().min(1).max(4096),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    sizeBytes: z.number().int().nonnegative(),
  }),
);

export const SessionClosed = defineEvent('SessionClosed', 'session', z.object({ ...SessionRef }));
