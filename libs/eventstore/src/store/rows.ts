import type { EventEnvelope } from '@quarry/contracts';

export interface EventRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  payload: unknown;
  node_id: string;
  node_incarnation: string;
  occurred_at: Date;
}

export const EVENT_COLUMNS =
  'global_position, event_id, stream_id, stream_version, type, schema_version, payload, node_id, node_incarnation, occurred_at';

export function envelopeFromRow(row: EventRow): EventEnvelope {
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    schemaVersion: row.schema_version,
    payload: row.payload,
    nodeId: row.node_id,
    nodeIncarnation: row.node_incarnation,
    occurredAt: row.occurred_at.toISOString(),
    globalPosition: Number(row.global_position),
  };
}
