/**
 * What tools/bench/run-bench.mjs hands every `bench/*.bench.ts` module, and what it expects back.
 * A bench module exports `async function run(ctx: BenchContext): Promise<BenchRow[]>`.
 */
export interface BenchContext {
  /** `--quick`: fewer samples and events, for a fast smoke run. */
  quick: boolean;
  /** A database of this run's own (quarry_bench_<random>), empty, dropped after the run. */
  databaseUrl: string;
  databaseName: string;
  /** Kafka bootstrap servers (loopback). */
  brokers: string[];
  /** A topic and consumer-group prefix of this run's own; its topics and groups are deleted afterwards. */
  topicPrefix: string;
  /** The built node entry point (dist/apps/node/apps/node/src/main.js). */
  nodeMain: string;
  repoRoot: string;
  /** Progress messages (stderr). */
  log(message: string): void;
  /** Registers clean-up that runs after the bench (last registered first), whether it passed, failed or timed out. */
  defer(cleanup: () => unknown): void;
  /**
   * Creates an empty database `quarry_bench_<label>_<random>` (label: lower-case letters and
   * digits) on the same server, e.g. a warehouse for the nodes to query. It is dropped by a
   * clean-up registered now (so after whatever is deferred later, such as the nodes using it),
   * and by the runner at the end if that failed. `readerUrl` reaches it as a non-superuser login
   * role of its own that may read its tables (also those made later): give that to the nodes, whose
   * pg driver refuses a superuser.
   */
  createDatabase(label: string): Promise<{ name: string; url: string; readerUrl: string }>;
  /** Aborted on Ctrl-C or when the bench overruns its time; long loops should check it. */
  signal: AbortSignal;
}

/** What a baseline figure is, so the runner can print it beside the measured value and divide. */
export interface BaselineRef {
  name: string;
  metric: string;
  value: number;
  unit: string;
}

/** One line of the results table. `ratio` is value / baseline.value, filled in by the runner. */
export interface BenchRow {
  name: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: BaselineRef;
  ratio?: number;
  /** Anything worth keeping in the JSON (sample counts, settings); not printed. */
  detail?: Record<string, unknown>;
}
