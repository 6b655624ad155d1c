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
