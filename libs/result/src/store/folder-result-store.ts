import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import type { ResultFileKind, ResultStore, ResultWriter } from './result-store';

/** Every file an attempt may leave: its CSV, plain or gzipped, and its row batches. */
const FILES: [ResultFileKind, boolean][] = [
  ['csv', false],
  ['csv', true],
  ['rowbatches', false],
];

function checkHandle(queryHandle: string): void {
  if (!/^[0-9a-f-]{36}$/.test(queryHandle)) throw new Error(`not a query handle: ${queryHandle}`);
}

/**
 * `<handle>.csv` for a first attempt (most results), `<handle>.a<N>.csv` for a later one; its row
 * batches beside it as `<handle>[.a<N>].rowbatches`.
 */
function nameOf(queryHandle: string, attempt: number, kind: ResultFileKind, gzip: boolean): string {
  const base = `${queryHandle}${attempt > 1 ? `.a${attempt}` : ''}`;
  return kind === 'rowbatches' ? `${base}.rowbatches` : `${base}.csv${gzip ? '.gz' : ''}`;
}

/** Results as files under one folder (QUARRY_RESULT_DIR); written to a temp name, then renamed. */
export class FolderResultStore implements ResultStore {
  constructor(private readonly root: string) {}

  async create(queryHandle: string, options: { gzip: boolean; attempt?: number; kind?: ResultFileKind }): Promise<ResultWriter> {
    checkHandle(queryHandle);
    await mkdir(this.root, { recursive: true });
    const path = nameOf(queryHandle, options.attempt ?? 1, options.kind ?? 'csv', options.gzip);
    const temp = join(this.root, `.${path}.part`);
    const file = createWriteStream(temp);
    const gzip: Gzip | undefined = options.gzip ? createGzip() : undefined;
    if (gzip) gzip.pipe(file);
    const sink: Writable = gzip ?? file;
    let failure: Error | undefined;
    const fail = (error: Error) => (failure ??= error);
    file.on('error', fail);
    gzip?.on('error', fail);
    return {
      write: async (chunk) => {
        if (failure) throw failure;
        if (!sink.write(chunk)) await once(sink, 'drain');
      },
      commit: async () => {
        sink.end();
        await once(file, 'close');
        if (failure) throw failure;
        await rename(temp, join(this.root, path));
        return { path, bytes: (await stat(join(this.root, path))).size };
      },
      abort: async () => {
        sink.destroy();
        file.destroy();
        await rm(temp, { force: true });
      },
    };
  }

  async discardBefore(queryHandle: string, attempt: number): Promise<void> {
    checkHandle(queryHandle);
    const names = [];
    for (let earlier = 1; earlier < attempt; earlier++) {
      for (const [kind, gzip] of FILES) names.push(nameOf(queryHandle, earlier, kind, gzip), `.${nameOf(queryHandle, earlier, kind, gzip)}.part`);
    }
    await Promise.all(names.map((name) => rm(join(this.root, name), { force: true })));
  }

  async open(path: string, options: { chunkBytes?: number } = {}) {
    const full = this.resolve(path);
    const { size } = await stat(full);
    return { stream: createReadStream(full, { highWaterMark: options.chunkBytes }), bytes: size };
  }

  async remove(path: string): Promise<void> {
    await rm(this.resolve(path), { force: true });
  }

  /** Only names this store made: no separators, no way out of the folder. */
  private resolve(path: string): string {
    const clean = normalize(path);
    if (clean.includes(sep) || clean.startsWith('.')) throw new Error(`not a result of this store: ${path}`);
    return join(this.root, clean);
  }
}
