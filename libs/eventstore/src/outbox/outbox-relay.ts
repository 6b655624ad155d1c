import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { createMissingTopics } from '../kafka/kafka';
import type { Pool, PoolClient } from 'pg';
import { AdvisoryLeadership } from '../db/advisory-leadership';
import { namedStatement } from '../db/named-statements';
import type { Logger } from 'pino';
import { OUTBOX_CHANNEL, RELAY_ASLEEP_LOCK } from '../store/event-store';

/** Prepared once per connection: unnamed, PostgreSQL planned it again on every bulk delete. */
const DELETE_RELAYED = namedStatement('DELETE FROM outbox WHERE id = ANY($1::bigint[])');

export interface RelaySettings {
  batchSize: number;
  /**
   * How long the outbox must stay quiet before the relayed rows are deleted, and a follower's wait
   * between tries for the lock (4x). An idle leader looks at an empty outbox only every
   * QUIET_LOOKS x this: every append NOTIFYs it (see QUIET_LOOKS).
   */
  idleMs: number;
  /** Partitions of an event topic the relay creates again when the broker has lost it. */
  partitions: number;
  /**
   * Under load (the last read moved LINGER_AFTER_ROWS rows or more), how long the next read waits
   * for more rows to gather; 0: never. Every read costs a produce request, the broker's work for
   * it and a fetch answer to every consumer, whatever its size: fewer, larger batches cut the
   * pipeline's CPU per event (ADR 11, "Events, fourth pass"), at the price of at most this much
   * more latency, and only while appends come faster than one per read.
   */
  lingerMs?: number;
  /** Rows deleted between two VACUUMs of the outbox (see OUTBOX_VACUUM_AFTER_ROWS); 0: never. */
  vacuumAfterRows?: number;
}

/**
 * Deleted rows after which the relay vacuums the outbox itself. Every read walks the primary key
 * from its lowest id, through every dead entry no VACUUM has removed yet: 0.035 ms for a read of
 * a fresh outbox, 0.14 ms once 30,000 rows were deleted (84 index pages; 12 ms for the first read,
 * which marks them dead), growing with every event. Autovacuum (when on; a minute's nap by
 * default) is far behind a relay moving hundreds of events a second; a VACUUM of a few thousand
 * dead rows is a few milliseconds, on a pooled connection, beside the relay's loop.
 */
export const OUTBOX_VACUUM_AFTER_ROWS = 5_000;

export interface RelayHooks {
  published?(count: number): void;
  failed?(): void;
  leadership?(isLeader: boolean): void;
  /** The outbox was vacuumed (OUTBOX_VACUUM_AFTER_ROWS). */
  vacuumed?(): void;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  /** The stored jsonb as PostgreSQL prints it: sent as it is, never parsed here. */
  envelope: string;
}

/**
 * Relayed rows kept before their bulk delete. Each read skips them by id (`<> ALL`), a cost that
 * grows with both lists: a hundred keeps deletes rare (one write commit per hundred events) and
 * the skip cheap.
 */
const MAX_UNDELETED = 100;

/**
 * An idle leader's wait between looks at an empty outbox, in idleMs: a backup only. The LISTEN is
 * on the lock's own connection, so a notice is lost only with the node that appended (dead
 * between its commit and its NOTIFY, sent after the commit) or a NOTIFY statement that failed; the
 * next append anywhere (a dead node's NodeDown, within the detector's seconds) wakes the relay sooner.
 */
const QUIET_LOOKS = 20;
/**
 * A read that moved at least this many rows means appends are arriving faster than single reads:
 * the next read lingers (RelaySettings.lingerMs). A lone event (one row a read) never waits.
 */
export const LINGER_AFTER_ROWS = 4;
/**
 * Awake, after a read that moved fewer than LINGER_AFTER_ROWS rows, the wait before the next:
 * appends send no NOTIFY while the relay is awake (RELAY_ASLEEP_LOCK), so it looks again itself,
 * and goes to sleep once a look finds nothing.
 */
const AWAKE_LOOK_MS = 5;

/** The advisory-lock key of the cluster-wide relay lock (any constant shared by every node). */
export const RELAY_LOCK = 7_041_998_002;

/**
 * Drains the outbox into Kafka. Exactly one relay in the cluster publishes at a time
 * (AdvisoryLeadership: a killed relay hands over at once). Rows are read in id order and deleted only after Kafka has
 * acknowledged them (in bulk, see `relayed`), so a crash or a broker outage republishes rather than loses, and each
 * stream keeps its order: consumers drop the republished copies by stream version.
 */
export class OutboxRelay {
  private running = false;
  private readonly leadership: AdvisoryLeadership;
  private wake?: () => void;
  /** A NOTIFY that arrived while publishing: the next pause returns at once. */
  private woken = false;
  private loop?: Promise<void>;
  private producer?: Producer;
  /** The topics of the batch being sent: if it fails, the broker may have lost them. */
  private sendingTo: string[] = [];
  /**
   * Rows Kafka has acknowledged, deleted in bulk (MAX_UNDELETED of them, or when the outbox goes
   * quiet) rather than one write commit per batch. Skipped by the reads meanwhile; a relay that
   * takes over republishes them (consumers drop copies by stream version).
   */
  private relayed: string[] = [];
  /** Rows deleted since the last VACUUM; the VACUUM on its way, if one is. */
  private deletedSinceVacuum = 0;
  private vacuuming?: Promise<void>;
  /** When Kafka last acknowledged a batch (performance.now()). */
  private lastPublishedAt = 0;
  /** The lock connection on which this relay holds RELAY_ASLEEP_LOCK: it sleeps, appends NOTIFY it. */
  private asleepOn?: PoolClient;

  constructor(
    private readonly pool: Pool,
    private readonly kafka: Kafka,
    private readonly settings: RelaySettings,
    private readonly logger: Logger,
    private readonly hooks: RelayHooks = {},
  ) {
    this.leadership = new AdvisoryLeadership(pool, RELAY_LOCK, 'outbox relay', logger, hooks.leadership);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    await this.deleteRelayed().catch(() => undefined);
    await this.vacuuming;
    await this.leadership.client?.query(`UNLISTEN ${OUTBOX_CHANNEL}`).catch(() => undefined);
    await this.wakeUp().catch(() => undefined);
    await this.leadership.release();
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
        if (published > 0) {
          // Rows came (a NOTIFY woke it, or its own look found them): the relay is awake again.
          await this.wakeUp();
          await this.awakeWait(published);
          continue;
        }
        // Asleep only on the lock connection it leads with now: a lost one took the lock with it.
        if (this.asleepOn !== this.leadership.client) {
          const found = await this.fallAsleep();
          if (found > 0) {
            // Its last look found rows (an append that had seen it awake): awake again, as above.
            await this.awakeWait(found);
            continue;
          }
        }
        // Asleep: rows just sent are deleted once the outbox has been quiet for idleMs; after that,
        // with nothing left to delete, only a NOTIFY (or the slow backup look) wakes the relay.
        if (!(await this.pause(this.settings.idleMs * (this.relayed.length === 0 ? QUIET_LOOKS : 1)))) await this.deleteRelayed();
      } catch (error) {
        this.hooks.failed?.();
        this.logger.warn({ err: (error as Error).message }, 'outbox relay: publish failed, retrying');
        await this.resetProducer();
        await this.recreateLostTopics();
        await this.leadership.verify();
        await this.pause(500);
      }
    }
  }

  /** Publishes up to one batch; returns how many rows it moved. */
  private async publishBatch(): Promise<number> {
    const client = this.leadership.client!;
    // Named: parsed and planned once on the lock's connection, as it runs on every wake.
    const { rows } = await client.query<OutboxRow>({
      name: 'quarry-outbox-next',
      text: 'SELECT id, topic, message_key, envelope::text AS envelope FROM outbox WHERE id <> ALL($2::bigint[]) ORDER BY id LIMIT $1',
      values: [this.settings.batchSize, this.relayed],
    });
    if (rows.length === 0) return 0;
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const row of rows) {
      const messages = byTopic.get(row.topic) ?? [];
      messages.push({ key: row.message_key, value: row.envelope });
      byTopic.set(row.topic, messages);
    }
    this.sendingTo = [...byTopic.keys()];
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    this.sendingTo = [];
    this.lastPublishedAt = performance.now();
    this.relayed.push(...rows.map((r) => r.id));
    this.hooks.published?.(rows.length);
    if (this.relayed.length >= Math.min(this.settings.batchSize, MAX_UNDELETED)) await this.deleteRelayed();
    return rows.length;
  }

  /** Deletes the rows Kafka has acknowledged (ids are never reused, so a stale list is harmless). */
  private async deleteRelayed(): Promise<void> {
    if (this.relayed.length === 0 || !this.leadership.client) return;
    await this.leadership.client.query({ ...DELETE_RELAYED, values: [this.relayed] });
    this.deletedSinceVacuum += this.relayed.length;
    this.relayed = [];
    this.vacuumWhenDue();
  }

  /** VACUUMs the outbox once enough rows were deleted (OUTBOX_VACUUM_AFTER_ROWS), never twice at once, never waited for. */
  private vacuumWhenDue(): void {
    const after = this.settings.vacuumAfterRows ?? OUTBOX_VACUUM_AFTER_ROWS;
    if (after <= 0 || this.vacuuming || this.deletedSinceVacuum < after) return;
    this.deletedSinceVacuum = 0;
    this.vacuuming = this.pool
      .query('VACUUM outbox')
      .then(() => this.hooks.vacuumed?.())
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'outbox relay: VACUUM outbox failed; autovacuum is left to do it'))
      .finally(() => (this.vacuuming = undefined));
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

  /**
   * A broker whose data was wiped comes back without the event topics (and does not create
   * topics by itself): create them again so events flow. Projections catch up from the event
   * store on whatever the lost topics had carried. Errors stay quiet: the next failure retries.
   */
  private async recreateLostTopics(): Promise<void> {
    if (this.sendingTo.length === 0) return;
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const created = await createMissingTopics(admin, this.sendingTo, this.settings.partitions);
      if (created.length > 0) this.logger.warn({ topics: created }, 'outbox relay: the broker had lost these topics; created them again');
    } catch {
      // The broker is still away; the next attempt looks again.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async holdLeadership(): Promise<boolean> {
    if (this.leadership.client) return true;
    const client = await this.leadership.tryAcquire();
    if (!client) return false;
    client.on('notification', () => this.notify());
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    return true;
  }

  /**
   * Takes RELAY_ASLEEP_LOCK (it waits for the appends that saw the relay awake to commit), then
   * looks once more: from here every append NOTIFYs. Returns how many rows that look moved (if
   * any, published, and the relay is awake again).
   */
  private async fallAsleep(): Promise<number> {
    const client = this.leadership.client!;
    await client.query({ name: 'quarry-relay-sleep', text: `SELECT pg_advisory_lock(${RELAY_ASLEEP_LOCK})` });
    this.asleepOn = client;
    const published = await this.publishBatch();
    if (published > 0) await this.wakeUp();
    return published;
  }

  /** Gives RELAY_ASLEEP_LOCK back: the appends stop sending NOTIFYs. */
  private async wakeUp(): Promise<void> {
    const client = this.asleepOn;
    if (!client) return;
    this.asleepOn = undefined;
    // A lost lock connection took the lock with it; a new one never had it.
    if (client === this.leadership.client) await client.query({ name: 'quarry-relay-wake', text: `SELECT pg_advisory_unlock(${RELAY_ASLEEP_LOCK})` });
  }

  /**
   * Awake after a read that moved rows: a full batch reads again at once; under load the next read
   * lingers (lingerMs), else it comes AWAKE_LOOK_MS later.
   */
  private async awakeWait(published: number): Promise<void> {
    if (published >= this.settings.batchSize) return;
    if (published >= LINGER_AFTER_ROWS) return this.linger();
    // An append that NOTIFYs anyway (inside a caller's transaction, or in a group commit) cuts it short.
    await this.pause(AWAKE_LOOK_MS);
  }

  private notify(): void {
    this.woken = true;
    this.wake?.();
  }

  /**
   * The wait before a read under load (RelaySettings.lingerMs): while reads keep finding several
   * rows, the next comes lingerMs after Kafka acknowledged the last; a wake after a longer quiet reads at once.
   * Short, so stop() simply waits for it.
   */
  private async linger(): Promise<void> {
    const ms = (this.settings.lingerMs ?? 0) - (performance.now() - this.lastPublishedAt);
    if (ms > 0 && this.running) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Waits for a NOTIFY or `ms`; says whether it was woken (false: the time ran out). */
  private pause(ms: number): Promise<boolean> {
    if (this.woken || !this.running) {
      this.woken = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.woken = false;
        this.wake = undefined;
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      this.wake = () => done(true);
    });
  }
}
