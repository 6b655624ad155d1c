import { z } from 'zod';
import { defineEvent } from './define-event';

const NodeRef = { nodeId: z.string().min(1).max(128), incarnation: z.string().uuid() };

export const NodeJoined = defineEvent(
  'NodeJoined',
  'node',
  z.object({ ...NodeRef, httpUrl: z.string().url(), services: z.array(z.string()).min(1) }),
);

/**
 * Appended once per incarnation: by the survivor that saw its heartbeat stop, or by the node's
 * next incarnation when it starts again (`restarted`) before anyone noticed.
 */
export const NodeDown = defineEvent(
  'NodeDown',
  'node',
  z.object({
    ...NodeRef,
    detectedBy: z.string().min(1),
    lastHeartbeatAt: z.string().datetime({ offset: true }),
    cause: z.enum(['heartbeat-stopped', 'restarted']).default('heartbeat-stopped'),
  }),
);

export const NodeLeft = defineEvent('NodeLeft', 'node', z.object({ ...NodeRef }));
