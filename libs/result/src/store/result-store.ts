import type { Readable } from 'node:stream';

/**
 * The shared result store: where persisted results live so that every node can serve them. The
 * folder implementation needs a shared mount when nodes are on several hosts; an object store
 * can implement the same port.
 */
/** A result's CSV (the default), or its row batches encoded once for gRPC (row-batch-file.ts). */
export type ResultFileKind = 'csv' | 'rowbatches';

export interface ResultStore {
  /**
   * A writer for one attempt's result; nothing is visible until `commit`. Each attempt writes
   * under its own name, so a paused former attempt can never write into its successor's file.
   */
  create(queryHandle: string, options: { gzip: boolean; attempt?: number; kind?: ResultFileKind }): Promise<ResultWriter>;
  /** Removes what attempts before `attempt` left (half-written or never recorded): a taken-over query's leftovers. */
  discardBefore(queryHandle: string, attempt: number): Promise<void>;
  /** The file as a stream of chunks of about `chunkBytes` (default 64 KiB). */
  open(path: string, options?: { chunkBytes?: number }): Promise<{ stream: Readable; bytes: number }>;
  remove(path: string): Promise<void>;
}

export interface ResultWriter {
  /** Resolves once the chunk is accepted (back-pressure: the producer waits for the disk). */
  write(chunk: string | Buffer): Promise<void>;
  /** Makes the result visible under its final path; returns it and its size. */
  commit(): Promise<{ path: string; bytes: number }>;
  abort(): Promise<void>;
}

/** Removes a persisted result's files: its CSV and, when it has them, its row batches. */
export async function removePersisted(store: ResultStore, persisted: { path: string; rowBatches?: { path: string } }): Promise<void> {
  await Promise.all([store.remove(persisted.path), persisted.rowBatches && store.remove(persisted.rowBatches.path)]);
}
