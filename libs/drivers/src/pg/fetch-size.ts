/**
 * Rows to ask of the next FETCH: as many as fit in the batch budget if each is `rowBytes` long
 * (node-pg holds a FETCH's rows whole before returning them), at least one, at most `fetchRows`.
 * Before any row is seen, `rowBytes` is the row limit, so even the first FETCH stays within budget.
 */
export function rowsPerFetch(budgetBytes: number, rowBytes: number, fetchRows: number): number {
  return Math.max(1, Math.min(fetchRows, Math.floor(budgetBytes / Math.max(1, rowBytes))));
}
