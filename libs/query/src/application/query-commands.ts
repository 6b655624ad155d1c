import { Injectable } from '@nestjs/common';
import type { NewEvent } from '@quarry/contracts';
import type { Decided, ExecuteInOptions, ExecuteOptions, Loaded, Sql } from '@quarry/eventstore';
import type { QueryCommand } from '../domain/query.decider';
import type { QueryState } from '../domain/query.state';
import { QueryRepository } from '../infrastructure/query-repository';

/**
 * The query aggregate as other services write it (the executor, results): a command is decided by
 * the query's own decider on its stream, and refused (QueryRefused) when Lens's state machine says
 * no. The repository, its cache and its stream stay inside the query lib.
 */
@Injectable()
export class QueryCommands {
  constructor(private readonly repository: QueryRepository) {}

  /** The query as its stream says now. */
  load(queryHandle: string): Promise<Loaded<QueryState>> {
    return this.repository.load(queryHandle);
  }

  /** Decides and appends on its own commit (read again and decided again on a concurrent write). */
  execute(queryHandle: string, command: QueryCommand, options?: ExecuteOptions<QueryState>): Promise<{ state: QueryState; events: NewEvent[] }> {
    return this.repository.execute(queryHandle, command, options);
  }

  /** Decides and appends within the caller's transaction or statement (a claim, an attempt's end). */
  executeIn(tx: Sql, queryHandle: string, commands: QueryCommand | readonly QueryCommand[], options?: ExecuteInOptions<QueryState, QueryCommand>): Promise<Decided<QueryState>> {
    return this.repository.executeIn(tx, queryHandle, commands, options);
  }
}
