import type { Kafka } from 'kafkajs';
import type { Sql } from '../db/sql';

export interface StoredPosition {
  topic: string;
  partition: number;
  nextOffset: string;
}

export interface PartitionRef {
  topic: string;
  partition: number;
}

export interface PositionsAgainstEnds {
  /**
   * Stored positions past their partition's end (or on a partition the topic no longer has):
   * taken on a topic that has since been replaced.
   */
  past: StoredPosition[];
  /**
   * Partitions of the topics with no stored position: never consumed from, or restarted after a
   * replacement and not consumed from since. Their offsets say nothing, so a replacement of the
   * topic since then cannot be seen in them.
   */
  unpositioned: PartitionRef[];
}

/**
 * The projection's stored positions beside the ends of its topics' partitions. Positions are read
 * before the ends, which only grow on one topic, so a position a batch stores meanwhile is never past.
 */
export async function positionsAgainstEnds(sql: Sql, kafka: Kafka, projection: string, topics: string[]): Promise<PositionsAgainstEnds> {
  const { rows } = await sql.query<StoredPosition>(
    `SELECT topic, kafka_partition AS partition, next_offset::text AS "nextOffset" FROM projection_offsets WHERE projection = $1 AND topic = ANY($2::text[])`,
    [projection, topics],
  );
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const ends: (PartitionRef & { high: bigint })[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) ends.push({ topic, partition: p.partition, high: BigInt(p.high) });
    }
    const endOf = (r: StoredPosition) => ends.find((e) => e.topic === r.topic && e.partition === r.partition)?.high ?? 0n;
    const stored = (e: PartitionRef) => rows.some((r) => r.topic === e.topic && r.partition === e.partition);
    return {
      past: rows.filter((r) => BigInt(r.nextOffset) > endOf(r)),
      unpositioned: ends.filter((e) => !stored(e)).map(({ topic, partition }) => ({ topic, partition })),
    };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
