import { spawn } from 'node:child_process';
import { countNewlines } from './http-client';

/** What one `psql -c "COPY (…) TO STDOUT"` did. */
export interface CopyRun {
  /** Lines psql wrote to stdout (one per row for CSV without a header and no newline in a value). */
  lines: number;
  bytes: number;
  /** From spawning psql to its exit: connecting, running the statement and writing every row included. */
  ms: number;
}

/**
 * Baseline: PostgreSQL's own bulk export, `psql -X -c "COPY (<query>) TO STDOUT WITH (FORMAT csv)"`
 * against `url`, the rows counted as they arrive on psql's stdout (nothing kept). The floor under
 * getting a query's rows out of PostgreSQL as a CSV stream. `psql` is taken from PATH (or
 * QUARRY_BENCH_PSQL); a non-zero exit fails it, with psql's stderr.
 */
export function psqlCopy(url: string, query: string, signal?: AbortSignal): Promise<CopyRun> {
  const psql = process.env.QUARRY_BENCH_PSQL || 'psql';
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', `COPY (${query}) TO STDOUT WITH (FORMAT csv)`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGAPPNAME: 'quarry bench baseline' },
      signal,
    });
    let lines = 0;
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      lines += countNewlines(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.once('error', (error) => reject(new Error(`${psql}: ${error.message}`)));
    child.once('close', (code, killed) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ lines, bytes, ms });
      else reject(new Error(`${psql} -c "COPY (…) TO STDOUT" exited ${code ?? killed}: ${stderr.trim()}`));
    });
  });
}
