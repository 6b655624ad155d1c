import { canMove, QUERY_STATUSES, type QueryStatus } from './query-status';

// Lens's table, written out pair by pair so the test does not just re-read the code's table.
const ALLOWED = new Set([
  'NEW>QUEUED',
  'QUEUED>LAUNCHED', 'QUEUED>FAILING', 'QUEUED>CANCELED',
  'LAUNCHED>LAUNCHED', 'LAUNCHED>RUNNING', 'LAUNCHED>CANCELED', 'LAUNCHED>FAILING', 'LAUNCHED>EXECUTED',
  'RUNNING>RUNNING', 'RUNNING>CANCELED', 'RUNNING>FAILING', 'RUNNING>EXECUTED',
  'EXECUTED>EXECUTED', 'EXECUTED>SUCCESSFUL', 'EXECUTED>FAILING', 'EXECUTED>CANCELED',
  'FAILING>QUEUED', 'FAILING>FAILED',
  'FAILED>CLOSED', 'CANCELED>CLOSED', 'SUCCESSFUL>CLOSED',
]);

describe('the Lens query state machine', () => {
  const pairs = QUERY_STATUSES.flatMap((from) => QUERY_STATUSES.map((to) => [from, to] as [QueryStatus, QueryStatus]));

  it.each(pairs.filter(([f, t]) => ALLOWED.has(`${f}>${t}`)))('allows %s -> %s', (from, to) => {
    expect(canMove(from, to)).toBe(true);
  });

  it.each(pairs.filter(([f, t]) => !ALLOWED.has(`${f}>${t}`)))('refuses %s -> %s', (from, to) => {
    expect(canMove(from, to)).toBe(false);
  });

  it('covers all 100 pairs', () => {
    expect(pairs).toHaveLength(100);
    expect(pairs.filter(([f, t]) => canMove(f, t))).toHaveLength(ALLOWED.size);
  });
});
