import type { Kafka } from 'kafkajs';
import type { Sql } from '../db/sql';

export interface StoredPosition {
  topic: string;
  partition: number;
  nextOffset: string;
}

/**
 * The projection's stored positions that lie past their partition's end (or on a partition the
 * topic no longer has): taken on a topic that has since been replaced. Positions are read before
 * the ends, which only grow on one topic, so a position a batch stores meanwhile is never past.
 */
export async function positionsPastEnd(sql: Sql, kafka: Kafka, projection: string, topics: string[]): Promise<StoredPosition[]> {
  const { rows } = await sql.query<StoredPosition>(
    `SELECT topic, kafka_partition AS partition, next_offset::text AS "nextOffset" FROM projection_offsets WHERE projection = $1 AND topic = ANY($2::text[])`,
    [projection, topics],
  );
  if (rows.length === 0) return [];
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const ends = new Map<string, bigint>();
    for (const topic of new Set(rows.map((r) => r.topic))) {
      for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
    return rows.filter((r) => BigInt(r.nextOffset) > (ends.get(`${r.topic}:${r.partition}`) ?? 0n));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
