import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuarryConfig } from '@quarry/platform';
import type { QueryState } from '@quarry/query';
import type { HeldResults } from '../held/held-results';
import { FolderResultStore } from '../store/folder-result-store';
import { ResultCapture } from './result-capture';

const HANDLE = '0b7c1a52-3d4e-4f60-8a9b-1c2d3e4f5a6b';
const STATE = { persistent: true, conf: {} } as unknown as QueryState;

describe('ResultCapture of a persisted result', () => {
  let dir: string;
  let capture: ResultCapture;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'quarry-capture-'));
    const config = { results: { persistByDefault: false } } as unknown as QuarryConfig;
    capture = new ResultCapture({} as HeldResults, new FolderResultStore(dir), config, { nodeId: 'L1', incarnation: 'i' } as never, ['result']);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the row batches beside the CSV and records them', async () => {
    const outcome = await capture.run({ queryHandle: HANDLE, attempt: 1, state: STATE }, async (sink) => {
      await sink.columns([{ name: 'id', type: 'INT' }]);
      await sink.rows([[1], [2]]);
      return { rowCount: 2 };
    });
    expect(outcome.persisted).toMatchObject({ path: `${HANDLE}.csv`, rows: 2, rowBatches: { path: `${HANDLE}.rowbatches` } });
    expect(readdirSync(dir).sort()).toEqual([`${HANDLE}.csv`, `${HANDLE}.rowbatches`]);
  });

  it('keeps a result whose text the batches cannot hold as its CSV alone, and the query succeeds', async () => {
    // An INT column with a value that is no number: reading the CSV back gives NaN, which no sint64 holds.
    const outcome = await capture.run({ queryHandle: HANDLE, attempt: 1, state: STATE }, async (sink) => {
      await sink.columns([{ name: 'id', type: 'INT' }]);
      await sink.rows([[1], ['not a number']]);
      return { rowCount: 2 };
    });
    expect(outcome.persisted).toMatchObject({ path: `${HANDLE}.csv`, rows: 2 });
    expect(outcome.persisted?.rowBatches).toBeUndefined();
    expect(readdirSync(dir)).toEqual([`${HANDLE}.csv`]);
  });
});
