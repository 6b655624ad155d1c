import { SingleBar } from 'cli-progress';

/**
 * What a running query shows on stderr: on a terminal, one live line (cli-progress) with the
 * state, progress and elapsed time; otherwise nothing (scripts get one summary or error line).
 */
export interface QueryProgress {
  update(state: string, progress: number): void;
  stop(): void;
}

export function queryProgress(handle: string, stream: NodeJS.WriteStream = process.stderr): QueryProgress {
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    format: 'query {handle} {state} [{bar}] {percentage}% | {duration_formatted}',
    stream,
    clearOnComplete: true,
    hideCursor: true,
    barsize: 20,
  });
  bar.start(100, 0, { handle, state: 'SUBMITTED' });
  return {
    update: (state, progress) => bar.update(Math.round(progress * 100), { state }),
    stop: () => bar.stop(),
  };
}

/** Rows written to a file: a live counter on a terminal, else nothing until the summary. */
export function rowCounter(stream: NodeJS.WriteStream = process.stderr): { add(n: number): void; stop(): void } {
  if (!stream.isTTY) return { add: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: 'rows written: {value} | {duration_formatted}', stream, clearOnComplete: true, hideCursor: true });
  bar.start(0, 0);
  return { add: (n) => bar.increment(n), stop: () => bar.stop() };
}
