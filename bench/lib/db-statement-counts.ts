import type { KeepAliveClient } from './http-client';

export interface StatementCounts {
  statements: number;
  writeCommits: number;
}

/** Sums every sample of a counter in a Prometheus text exposition (all its label sets). */
function counterTotal(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/**
 * What the nodes sent to Quarry's own database so far, as each counts it around its pool
 * (`quarry_db_statements_total`, `quarry_db_write_commits_total`: every statement, BEGIN and
 * COMMIT included, and every commit that wrote; ADR 11), summed over the nodes given.
 */
export async function statementCounts(nodes: KeepAliveClient[]): Promise<StatementCounts> {
  let statements = 0;
  let writeCommits = 0;
  for (const node of nodes) {
    const answer = await node.request({ method: 'GET', path: '/metrics' });
    if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
    statements += counterTotal(answer.body, 'quarry_db_statements_total');
    writeCommits += counterTotal(answer.body, 'quarry_db_write_commits_total');
  }
  return { statements, writeCommits };
}
