import type { DbPurposes } from './db-purpose';

export interface PurposeCounts {
  /** Statements sent, BEGIN and COMMIT included (each is a round trip). */
  statements: number;
  /** Commits that wrote (the WAL flush synchronous_commit waits for): a transaction or an autocommitted statement that changed or locked a row. */
  writeCommits: number;
}

/**
 * Statements and write commits in Quarry's own database, by purpose: plain numbers, read by
 * /metrics on a scrape (quarry_db_statements_total, quarry_db_write_commits_total).
 */
export class StatementCounts {
  private readonly counts = new Map<string, PurposeCounts>();

  constructor(readonly purposes: DbPurposes) {}

  /** The counts of the current purpose, to add to. */
  current(): PurposeCounts {
    const purpose = this.purposes.current();
    let counts = this.counts.get(purpose);
    if (!counts) this.counts.set(purpose, (counts = { statements: 0, writeCommits: 0 }));
    return counts;
  }

  snapshot(): Record<string, PurposeCounts> {
    return Object.fromEntries([...this.counts].map(([purpose, c]) => [purpose, { ...c }]));
  }
}
