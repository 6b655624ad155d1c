import type { QueryStatus } from './query-status';

export type QueryRefusal =
  | { kind: 'not-found' }
  | { kind: 'transition'; from: QueryStatus; to: QueryStatus }
  | { kind: 'not-running'; status: QueryStatus }
  | { kind: 'stale-attempt'; attempt: number; current: number }
  | { kind: 'no-result'; status: QueryStatus }
  | { kind: 'not-gone'; status: QueryStatus };

export class QueryRefused extends Error {
  constructor(readonly refusal: QueryRefusal) {
    super(describe(refusal));
    this.name = 'QueryRefused';
  }
}

function describe(r: QueryRefusal): string {
  switch (r.kind) {
    case 'not-found':
      return 'no such query';
    case 'transition':
      return `a ${r.from} query cannot become ${r.to}`;
    case 'not-running':
      return `the query was not running: it is ${r.status}`;
    case 'no-result':
      return `the query has no result to delete: it is ${r.status}`;
    case 'not-gone':
      return `only a SUCCESSFUL query whose result expired or was lost can run again; it is ${r.status}`;
    case 'stale-attempt':
      return `attempt ${r.attempt} is no longer the query's attempt (${r.current})`;
  }
}
