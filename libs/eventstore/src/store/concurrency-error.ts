/** The stream was not at the version the caller decided on; re-read and decide again. */
export class ConcurrencyError extends Error {
  readonly code = 'EVENT_STORE_CONCURRENCY';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, not the expected ${String(expectedVersion)}`);
    this.name = 'ConcurrencyError';
  }
}

/** A version number; `no_stream` (must not exist yet); or `any` (append whatever the version). */
export type ExpectedVersion = number | 'no_stream' | 'any';

/**
 * The writer's incarnation has ended (declared down, or left): the cluster has moved on without
 * it, so nothing it appends may land. The node should stop at once.
 */
export class WriterFenced extends Error {
  readonly code = 'EVENT_STORE_WRITER_FENCED';
  constructor(readonly incarnation: string) {
    super(`node incarnation ${incarnation} has ended (declared down or left); its appends are refused`);
    this.name = 'WriterFenced';
  }
}

/**
 * The append's condition (AppendOptions.conditions' `onlyIf`) found no row: nothing was written.
 * What that means is the caller's (a work row no longer its own, a query waiting before it).
 */
export class AppendRefused extends Error {
  readonly code = 'EVENT_STORE_APPEND_REFUSED';
  constructor(readonly streamId: string) {
    super(`the condition of an append to ${streamId} did not hold; nothing was written`);
    this.name = 'AppendRefused';
  }
}
