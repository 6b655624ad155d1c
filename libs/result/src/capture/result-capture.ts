import { Inject, Injectable } from '@nestjs/common';
import type { HeldResultInfo, PersistedResultInfo } from '@quarry/contracts';
import type { ColumnMeta, CsvTarget, RowSink } from '@quarry/drivers';
import { NODE_IDENTITY, QUARRY_CONFIG, RESULT_STORE, RUNNING_SERVICES, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import { CONF, type QueryState } from '@quarry/query';
import { HeldResults } from '../held/held-results';
import { CsvResultSink } from '../store/csv-result-sink';
import { removePersisted, type ResultStore, type ResultWriter } from '../store/result-store';
import { RowBatchFileWriter } from '../store/row-batch-file';
import { HeldOrSpilledSink } from './held-or-spilled-sink';

/** What a finished execution leaves: its row count and where its rows are. */
export interface Outcome {
  rowCount: number;
  persisted?: PersistedResultInfo;
  held?: HeldResultInfo;
}

/** Runs the query into a row sink; resolves with the row count. */
export type RunIntoRows = (sink: RowSink) => Promise<{ rowCount: number }>;
/** Runs the query into the engine's own CSV, for a driver that can write it. */
export type RunIntoCsv = (target: CsvTarget, header: boolean) => Promise<{ rowCount: number }>;

interface PersistedWrite {
  writer: ResultWriter;
  /** The row-batch file's writer, and what turns the CSV text into its batches once the columns are known. */
  batchesWriter: ResultWriter;
  batches?: RowBatchFileWriter;
  /** Set when the text could not be made into batches: the result then has none, and is read from its CSV. */
  batchesFailed?: boolean;
  /** The CSV text to both files. */
  write(chunk: string | Buffer): Promise<void>;
  sink: CsvResultSink;
  gzip: boolean;
  header: boolean;
}

/**
 * Where an execution's rows go: this node's memory (HeldResults, within its limits; past them the
 * query fails or spills to the store), or the shared result store as CSV.
 */
@Injectable()
export class ResultCapture {
  constructor(
    private readonly held: HeldResults,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(RUNNING_SERVICES) private readonly services: string[],
  ) {}

  async run(query: { queryHandle: string; attempt: number; state: QueryState }, rows: RunIntoRows, csv?: RunIntoCsv): Promise<Outcome> {
    // A later attempt (taken over) first clears what the earlier ones left half-written.
    if (query.attempt > 1) await this.store.discardBefore(query.queryHandle, query.attempt);
    return this.persists(query.state)
      ? this.runPersisted(query.queryHandle, query.attempt, query.state, rows, csv)
      : this.runHeld(query.queryHandle, query.attempt, query.state, rows);
  }

  /** Rows held in memory written to the shared store as the query would have persisted them. */
  async persistHeld(queryHandle: string, attempt: number, state: QueryState, columns: ColumnMeta[], rows: unknown[][]): Promise<PersistedResultInfo> {
    const write = await this.openPersisted(queryHandle, attempt, state);
    try {
      await write.sink.columns(columns);
      await write.sink.rows(rows);
      return await this.commitPersisted(write, rows.length, columns);
    } catch (error) {
      await abortPersisted(write);
      throw error;
    }
  }

  /** The rows of a query whose success could not be recorded: nobody will ask for them. */
  forget(queryHandle: string): void {
    this.held.drop(queryHandle);
  }

  /** What a run that will never be recorded left: its held rows, or the files a spill wrote. */
  async discard(queryHandle: string, outcome: Outcome): Promise<void> {
    if (outcome.held) this.held.drop(queryHandle);
    if (outcome.persisted) await removePersisted(this.store, outcome.persisted);
  }

  /** Whether this query's rows would be held in this node's memory (not written to the store) when it ends well. */
  holds(state: QueryState): boolean {
    return !this.persists(state);
  }

  /**
   * Persisted when the query or the server says so, and also when this node does not serve
   * results (no `result` target): a result held here must be reachable here.
   */
  private persists(state: QueryState): boolean {
    return state.persistent || this.config.results.persistByDefault || !this.services.includes('result');
  }

  /**
   * Rows kept in this node's memory until the TTL, within the size limits; past them the query
   * fails with a clear message, or its rows move to the result store (QUARRY_RESULT_OVERFLOW=persist).
   */
  private async runHeld(queryHandle: string, attempt: number, state: QueryState, run: RunIntoRows): Promise<Outcome> {
    const collector = this.held.collector();
    let spill: PersistedWrite | undefined;
    const overflow = this.config.results.overflow === 'persist' ? async () => (spill = await this.openPersisted(queryHandle, attempt, state)).sink : undefined;
    const sink = new HeldOrSpilledSink(collector, overflow, () => this.held.release(collector));
    try {
      const { rowCount } = await run(sink);
      if (spill) return { rowCount, persisted: await this.commitPersisted(spill, rowCount, spill.sink.columnsSeen) };
      const asked = state.conf[CONF.resultTtlSeconds];
      const expiresAt = Date.now() + (asked ? Number(asked) * 1000 : this.config.results.heldTtlMs);
      this.held.keep(queryHandle, attempt, collector, expiresAt);
      const { nodeId, incarnation } = this.identity;
      return { rowCount, held: { nodeId, incarnation, expiresAt: new Date(expiresAt).toISOString(), bytes: collector.bytes, columns: collector.columnsSeen } };
    } catch (error) {
      this.held.release(collector);
      if (spill) await abortPersisted(spill);
      throw error;
    }
  }

  /**
   * The result streamed as CSV into the shared result store, in constant memory, whatever its
   * size: written by the engine itself where it can (PostgreSQL's COPY), else row batch by batch.
   */
  private async runPersisted(queryHandle: string, attempt: number, state: QueryState, rows: RunIntoRows, csv?: RunIntoCsv): Promise<Outcome> {
    const write = await this.openPersisted(queryHandle, attempt, state);
    try {
      let columns: ColumnMeta[] = [];
      const target: CsvTarget = { columns: (c) => void (columns = write.sink.columnsSeen = c), write: (chunk) => write.write(chunk) };
      const { rowCount } = csv ? await csv(target, write.header) : await rows(write.sink);
      return { rowCount, persisted: await this.commitPersisted(write, rowCount, csv ? columns : write.sink.columnsSeen) };
    } catch (error) {
      await abortPersisted(write);
      throw error;
    }
  }

  private async openPersisted(queryHandle: string, attempt: number, state: QueryState): Promise<PersistedWrite> {
    const gzip = state.conf['lens.query.output.compression.codec'] === 'gzip';
    const header = state.conf['lens.query.output.write.header'] === 'true';
    const writer = await this.store.create(queryHandle, { gzip, attempt });
    const batchesWriter = await this.store.create(queryHandle, { gzip: false, attempt, kind: 'rowbatches' }).catch(async (error: unknown) => {
      await writer.abort();
      throw error;
    });
    // The row batches are made from the very text the CSV gets, once the columns are known (they come first).
    const write: PersistedWrite = {
      writer,
      batchesWriter,
      write: async (chunk) => {
        await writer.write(chunk);
        if (write.batchesFailed) return;
        write.batches ??= new RowBatchFileWriter(batchesWriter, write.sink.columnsSeen, header);
        // The batches are derived from the CSV, which stays the result: a value they cannot hold
        // costs the result its batches (FetchResult then reads the CSV), never the query.
        await write.batches.write(chunk).catch(() => void (write.batchesFailed = true));
      },
      sink: new CsvResultSink({ write: (chunk) => write.write(chunk) }, header),
      gzip,
      header,
    };
    return write;
  }

  private async commitPersisted(write: PersistedWrite, rowCount: number, columns: ColumnMeta[]): Promise<PersistedResultInfo> {
    write.batches ??= new RowBatchFileWriter(write.batchesWriter, columns, write.header);
    if (!write.batchesFailed) await write.batches.end().catch(() => void (write.batchesFailed = true));
    const rowBatches = write.batchesFailed ? await write.batchesWriter.abort() : await write.batchesWriter.commit();
    const { path, bytes } = await write.writer.commit();
    return { path, rows: rowCount, bytes, gzip: write.gzip, header: write.header, columns, ...(rowBatches && { rowBatches }) };
  }
}

async function abortPersisted(write: PersistedWrite): Promise<void> {
  await Promise.all([write.writer.abort(), write.batchesWriter.abort()]);
}
