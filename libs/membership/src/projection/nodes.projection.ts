import { inlineProjection, type AppendingEvent, type InlineSql } from '@quarry/eventstore';

type NodeJoinedEvent = Extract<AppendingEvent, { type: 'NodeJoined' }>;
type NodeEnd = Extract<AppendingEvent, { type: 'NodeLeft' | 'NodeDown' }>;

const isEnd = (e: AppendingEvent): e is NodeEnd => e.type === 'NodeLeft' || e.type === 'NodeDown';

/**
 * The `nodes` read model: every incarnation, its URL and whether it is up. Other nodes read it to
 * find the holder of a result right after that node joined, so it is kept by the append itself
 * (ADR 12) rather than through Kafka: a projection consumer that waits for a dead member's
 * session to lapse would leave a node that just joined unknown meanwhile (ADR 11, eleventh pass).
 */
export const nodesProjection = inlineProjection({
  name: 'nodes',
  families: ['node'],
  tables: ['nodes'],
  write(events, sql) {
    const joinedAt = events.findIndex((e) => e.type === 'NodeJoined');
    const endAt = events.map(isEnd).lastIndexOf(true);
    const end = endAt >= 0 ? (events[endAt] as NodeEnd) : undefined;
    if (joinedAt >= 0) return insertRow(events[joinedAt] as NodeJoinedEvent, endAt > joinedAt ? end : undefined, joinedAt, sql);
    return end ? endRow(end, endAt, sql) : undefined;
  },
});

function endState(end: NodeEnd): 'LEFT' | 'DOWN' {
  return end.type === 'NodeLeft' ? 'LEFT' : 'DOWN';
}

/** A new incarnation (ended already if its end came in the same append); one seen before keeps its row. */
function insertRow(joined: NodeJoinedEvent, end: NodeEnd | undefined, index: number, sql: InlineSql): string {
  const { nodeId, incarnation, httpUrl, services } = joined.payload;
  return `INSERT INTO nodes (node_id, incarnation, http_url, services, state, joined_at, ended_at)
    SELECT ${sql.bind(nodeId)}::text, ${sql.bind(incarnation)}::uuid, ${sql.bind(httpUrl)}::text, ${sql.bind(services)}::text[],
           ${sql.bind(end ? endState(end) : 'UP')}::text, ${sql.bind(joined.occurredAt)}::timestamptz, ${sql.bind(end?.occurredAt ?? null)}::timestamptz
    WHERE ${sql.versionOf(index)} IS NOT NULL
    ON CONFLICT (node_id, incarnation) DO NOTHING`;
}

/** An incarnation's end: the first one recorded stays (a NodeDown after its NodeLeft changes nothing). */
function endRow(end: NodeEnd, index: number, sql: InlineSql): string {
  return `UPDATE nodes SET state = ${sql.bind(endState(end))}::text, ended_at = ${sql.bind(end.occurredAt)}::timestamptz
    WHERE node_id = ${sql.bind(end.payload.nodeId)}::text AND incarnation = ${sql.bind(end.payload.incarnation)}::uuid AND state = 'UP'
      AND ${sql.versionOf(index)} IS NOT NULL`;
}
