import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PurposeCounts } from '../db/statement-counts';

const EVENT_LOOP_SAMPLE_MS = 1000;

/** One registry per node process; every component registers its instruments here. */
export class QuarryMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'quarry_http_request_duration_seconds',
    help: 'HTTP requests served by this node',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  /** Requests answered ahead of Express and Nest (FastRoutes, ADR 17), a share of the above. */
  readonly httpFastAnswers = new Counter({
    name: 'quarry_http_fast_answers_total',
    help: 'HTTP requests this node answered ahead of Express and Nest (FastRoutes)',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });

  readonly eventsAppended = new Counter({
    name: 'quarry_events_appended_total',
    help: 'Events appended to the event store by this node',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly appendConflicts = new Counter({
    name: 'quarry_event_append_conflicts_total',
    help: 'Appends refused because the stream had moved past the expected version',
    registers: [this.registry],
  });

  readonly relayPublished = new Counter({
    name: 'quarry_outbox_published_total',
    help: 'Outbox rows this node published to Kafka',
    registers: [this.registry],
  });

  readonly relayFailures = new Counter({
    name: 'quarry_outbox_publish_failures_total',
    help: 'Outbox publish attempts that failed and will be retried',
    registers: [this.registry],
  });

  readonly relayIsLeader = new Gauge({
    name: 'quarry_outbox_relay_leader',
    help: '1 while this node holds the outbox relay lock',
    registers: [this.registry],
  });

  readonly projectionApplied = new Counter({
    name: 'quarry_projection_events_applied_total',
    help: 'Events a projection applied (duplicates skipped are not counted)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly projectionSkipped = new Counter({
    name: 'quarry_projection_events_skipped_total',
    help: 'Redelivered events a projection recognised as already applied',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  /** Computed on a scrape from `projectionLagSource` (set by the node's projection host). */
  projectionLagSource?: () => Promise<Record<string, number>>;

  readonly projectionLag = new Gauge({
    name: 'quarry_projection_lag_events',
    help: 'Events in the event store a projection has not applied yet (computed when scraped)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
    collect: async () => {
      const lags = await this.projectionLagSource?.().catch(() => undefined);
      this.projectionLag.reset();
      for (const [projection, events] of Object.entries(lags ?? {})) this.projectionLag.set({ projection }, events);
    },
  });

  readonly projectionTopicResets = new Counter({
    name: 'quarry_projection_topic_resets_total',
    help: 'Kafka partitions a projection found replaced or truncated (offsets started again): each caught up from the event store',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly nodesDeclaredDown = new Counter({
    name: 'quarry_nodes_declared_down_total',
    help: 'Node incarnations this node declared down (NodeDown appended): their heartbeat stopped, or this node started again',
    registers: [this.registry],
  });

  readonly queriesTakenOver = new Counter({
    name: 'quarry_queries_taken_over_total',
    help: 'Queries this node put back in the queue because the node incarnation running them ended, by why it ended',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Runs begun beside their launch's append (ADR 8) that were stopped because the launch did not commit. */
  readonly runsWithdrawn = new Counter({
    name: 'quarry_query_runs_withdrawn_total',
    help: 'Query runs this node began beside their launch and stopped because the launch did not commit (refused, or a request id taken meanwhile)',
    registers: [this.registry],
  });

  /** Queries recorded from submitted to succeeded in their submit's one commit (ADR 11, ninth pass). */
  readonly endedInLaunch = new Counter({
    name: 'quarry_queries_ended_in_launch_total',
    help: 'Queries whose run ended before their submit was appended, so that one commit recorded them from submitted to succeeded',
    registers: [this.registry],
  });

  readonly driverChoices = new Counter({
    name: 'quarry_driver_choices_total',
    help: 'Drivers chosen for submitted queries: planned on every driver, reused from a recent choice (QUARRY_DRIVER_CHOICE_TTL_MS), or named by lens.query.driver',
    labelNames: ['how'] as const,
    registers: [this.registry],
  });

  /** Read on a scrape (set by the node's held results), so no timer keeps the two gauges current. */
  heldResultsSource?: () => { bytes: number; count: number };

  readonly heldResultBytes = new Gauge({
    name: 'quarry_held_result_bytes',
    help: 'Estimated memory of the in-memory results this node holds',
    registers: [this.registry],
    collect: (): void => this.heldResultBytes.set(this.heldResultsSource?.().bytes ?? 0),
  });

  readonly heldResults = new Gauge({
    name: 'quarry_held_results',
    help: 'In-memory results this node holds',
    registers: [this.registry],
    collect: (): void => this.heldResults.set(this.heldResultsSource?.().count ?? 0),
  });

  readonly resultPages = new Counter({
    name: 'quarry_result_pages_total',
    help: 'Pages of in-memory results asked of this node, by how they were answered',
    labelNames: ['served'] as const,
    registers: [this.registry],
  });

  readonly resultReadAhead = new Counter({
    name: 'quarry_result_read_ahead_total',
    help: 'Pages of forwarded results this node read ahead from their holder, by what became of them: asked for (used), asked for but the holder had not answered with the page (failed), not asked for in time (expired), or their session closed or result deleted first (dropped)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Read on a scrape (set by the node from the pool's counts). */
  dbStatementsSource?: () => Record<string, PurposeCounts>;

  readonly dbStatements: Counter<'purpose'> = new Counter({
    name: 'quarry_db_statements_total',
    help: "Statements this node sent to Quarry's own database (BEGIN and COMMIT included), by purpose (all 'unattributed' unless QUARRY_DB_COUNT_BY_PURPOSE=true)",
    labelNames: ['purpose'] as const,
    registers: [this.registry],
    collect: (): void => this.readDbCounts((purpose, c) => this.dbStatements.inc({ purpose }, c.statements), this.dbStatements),
  });

  readonly dbWriteCommits: Counter<'purpose'> = new Counter({
    name: 'quarry_db_write_commits_total',
    help: "Commits in Quarry's own database that wrote (each a WAL flush), by purpose",
    labelNames: ['purpose'] as const,
    registers: [this.registry],
    collect: (): void => this.readDbCounts((purpose, c) => this.dbWriteCommits.inc({ purpose }, c.writeCommits), this.dbWriteCommits),
  });

  constructor() {
    // The event-loop lag is sampled by a timer every `eventLoopMonitoringPrecision` ms: prom-client's
    // 10 ms woke every node 100 times a second for that alone (measured: 0.67% of a core per idle
    // process). Once a second still shows a loop that stays busy; a single short stall may slip by.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  private readDbCounts(add: (purpose: string, counts: PurposeCounts) => void, counter: Counter<'purpose'>): void {
    counter.reset();
    for (const [purpose, counts] of Object.entries(this.dbStatementsSource?.() ?? {})) add(purpose, counts);
  }
}
