import { Injectable } from '@nestjs/common';
import { AggregateRepository, PgEventStore } from '@quarry/eventstore';
import { decide, evolve, type QueryCommand } from '../domain/query.decider';
import { INITIAL_QUERY, type QueryState } from '../domain/query.state';

/** Queries, each read from its own stream, so status is exact on every node at every moment. */
@Injectable()
export class QueryRepository extends AggregateRepository<QueryState, QueryCommand> {
  constructor(store: PgEventStore) {
    super(store, { family: 'query', initial: INITIAL_QUERY, decide, evolve });
  }
}
