import type { ColumnMeta, DriverSessionSpec, RowSink } from '../driver';

/** A driver session spec; `scripts` become `.sql` file resources, in order. */
export function sessionSpec(sessionId: string, resourcesVersion = 'v1', scripts: Record<string, string> = {}, jars: string[] = []): DriverSessionSpec {
  return {
    sessionId,
    resourcesVersion,
    database: 'default',
    resources: [
      ...Object.entries(scripts).map(([path, sql]) => ({ type: 'file' as const, path, sha256: path, content: Buffer.from(sql) })),
      ...jars.map((path) => ({ type: 'jar' as const, path, sha256: path })),
    ],
  };
}

/** A sink that keeps what it got and how it came (batch sizes). */
export class CollectingSink implements RowSink {
  columnsSeen: ColumnMeta[] = [];
  rowsSeen: unknown[][] = [];
  batchSizes: number[] = [];

  constructor(private readonly keepRows = true) {}

  columns(columns: ColumnMeta[]): void {
    this.columnsSeen = columns;
  }

  rows(batch: unknown[][]): void {
    this.batchSizes.push(batch.length);
    if (this.keepRows) this.rowsSeen.push(...batch);
  }

  get rowCount(): number {
    return this.batchSizes.reduce((a, b) => a + b, 0);
  }
}

/** A promise a test resolves when it chooses (e.g. to hold a sink mid-stream). */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Runs a query to the end and returns its rows. */
export async function rowsOf(driver: { execute: (s: DriverSessionSpec, q: string, k: RowSink) => { done: Promise<unknown> } }, session: DriverSessionSpec, sql: string): Promise<unknown[][]> {
  const sink = new CollectingSink();
  await driver.execute(session, sql, sink).done;
  return sink.rowsSeen;
}
