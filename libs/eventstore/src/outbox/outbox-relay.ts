import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { OUTBOX_CHANNEL } from '../store/event-store';

export interface RelaySettings {
  batchSize: number;
  /** How long to wait for a NOTIFY before looking again anyway. */
  idleMs: number;
}

export interface RelayHooks {
  published?(count: number): void;
  failed?(): void;
  leadership?(isLeader: boolean): void;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  envelope: unknown;
}

/** The advisory-lock key of the cluster-wide relay lock (any constant shared by every node). */
export const RELAY_LOCK = 7_041_998_002;

/**
 * Drains the outbox into Kafka. Exactly one relay in the cluster publishes at a time (a session
 * advisory lock on a dedicated connection; PostgreSQL frees it when that connection dies, so a
 * killed relay hands over at once). Rows are read in id order and deleted only after Kafka has
 * acknowledged them, so a crash or a broker outage republishes rather than loses, and each
 * stream keeps its order: consumers drop the republished copies by stream version.
 */
export class OutboxRelay {
  private running = false;
  private lockClient?: PoolClient;
  private wake?: () => void;
  private loop?: Promise<void>;
  private producer?: Producer;

  constructor(
    private readonly pool: Pool,
    private readonly kafka: Kafka,
    private readonly settings: RelaySettings,
    private readonly logger: Logger,
    private readonly hooks: RelayHooks = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.releaseLeadership();
    await this.resetProducer();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!(await this.holdLeadership())) {
          await this.pause(this.settings.idleMs * 4);
          continue;
        }
        const published = await this.publishBatch();
        if (published < this.settings.batchSize) await this.pause(this.settings.idleMs);
      } catch (error) {
        this.hooks.failed?.();
        this.logger.warn({ err: (error as Error).message }, 'outbox relay: publish failed, retrying');
        await this.resetProducer();
        await this.releaseLeadershipIfBroken();
        await this.pause(500);
      }
    }
  }

  /** Publishes up to one batch; returns how many rows it moved. */
  private async publishBatch(): Promise<number> {
    const client = this.lockClient!;
    const { rows } = await client.query<OutboxRow>(
      'SELECT id, topic, message_key, envelope FROM outbox ORDER BY id LIMIT $1',
      [this.settings.batchSize],
    );
    if (rows.length === 0) return 0;
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const row of rows) {
      const messages = byTopic.get(row.topic) ?? [];
      messages.push({ key: row.message_key, value: JSON.stringify(row.envelope) });
      byTopic.set(row.topic, messages);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    await client.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    this.hooks.published?.(rows.length);
    return rows.length;
  }

  private async connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      // Idempotent with one request in flight: a retried send neither duplicates nor reorders.
      this.producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await this.producer.connect();
      } catch (error) {
        this.producer = undefined;
        throw error;
      }
    }
    return this.producer;
  }

  /** A producer that failed may hold a fenced id or a broken sequence; the next batch gets a new one. */
  private async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async holdLeadership(): Promise<boolean> {
    if (this.lockClient) return true;
    const client = await this.pool.connect();
    let keep = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK]);
      if (!rows[0].locked) return false;
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      client.on('notification', () => this.wake?.());
      client.on('error', (error) => {
        this.logger.warn({ err: error.message }, 'outbox relay: lock connection lost');
        this.dropLockClient(error);
      });
      this.lockClient = client;
      keep = true;
      this.hooks.leadership?.(true);
      this.logger.info('outbox relay: this node now publishes the outbox');
      return true;
    } finally {
      if (!keep) client.release();
    }
  }

  private dropLockClient(error?: Error): void {
    const client = this.lockClient;
    if (!client) return;
    this.lockClient = undefined;
    this.hooks.leadership?.(false);
    client.removeAllListeners('notification');
    // A broken connection is destroyed, not returned to the pool (that would keep the lock).
    client.release(error ?? true);
  }

  private async releaseLeadershipIfBroken(): Promise<void> {
    const client = this.lockClient;
    if (!client) return;
    try {
      await client.query('SELECT 1');
    } catch (error) {
      this.dropLockClient(error as Error);
    }
  }

  private async releaseLeadership(): Promise<void> {
    const client = this.lockClient;
    if (!client) return;
    await client.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]).catch(() => undefined);
    await client.query(`UNLISTEN ${OUTBOX_CHANNEL}`).catch(() => undefined);
    this.dropLockClient();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
