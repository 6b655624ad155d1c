import { Injectable } from '@nestjs/common';
import { AggregateRepository, PgEventStore } from '@quarry/eventstore';
import { decide, evolve, type SessionCommand } from '../domain/session.decider';
import { INITIAL_SESSION, type SessionState } from '../domain/session.state';

/** Sessions, each read from its own stream (ADR 7). */
@Injectable()
export class SessionRepository extends AggregateRepository<SessionState, SessionCommand> {
  constructor(store: PgEventStore) {
    super(store, { family: 'session', initial: INITIAL_SESSION, decide, evolve });
  }
}
