import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ResultCell } from '@quarry/contracts';
import { CliError, EXIT } from '../cli-error';
import { PAGE_SIZE, type QuarryApi, type SessionKey } from '../http/quarry-api';
import { rowWriter, type Cell, type Format } from './formats';
import { rowCounter } from './query-progress';

const cellOf = (cell: ResultCell): Cell => {
  if (cell === null || cell.value === null || cell.value === undefined) return null;
  const value = cell.value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
};

/**
 * Reads a finished query's result page by page and writes it to stdout or, streamed with a row
 * counter, to a file; answers how many rows it wrote.
 */
export async function writeResult(api: QuarryApi, session: SessionKey, handle: string, options: { format: Format; output?: string }): Promise<number> {
  const columns = (await api.columns(session, handle)).map((c) => c.name);
  const stream = options.output ? createWriteStream(options.output) : process.stdout;
  if (options.output) {
    await Promise.race([
      once(stream, 'open'),
      once(stream, 'error').then(([error]) => {
        throw new CliError(`cannot write ${options.output}: ${(error as Error).message}`, EXIT.usage);
      }),
    ]);
  }
  const counter = options.output ? rowCounter() : undefined;
  let blocked = false;
  const writer = rowWriter(options.format, columns, (text) => {
    blocked = !stream.write(text) || blocked;
  });
  let total = 0;
  for (;;) {
    const page = await api.page(session, handle, total);
    writer.rows(page.map((row) => row.map(cellOf)));
    total += page.length;
    counter?.add(page.length);
    if (blocked) await once(stream, 'drain');
    blocked = false;
    if (page.length < PAGE_SIZE) break;
  }
  writer.end();
  counter?.stop();
  if (options.output) {
    await new Promise<void>((resolve, reject) => (stream as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
    process.stderr.write(`quarry: wrote ${total} rows to ${options.output}\n`);
  }
  return total;
}
