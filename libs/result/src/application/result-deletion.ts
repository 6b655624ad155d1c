import { Inject, Injectable } from '@nestjs/common';
import { RESULT_STORE } from '@quarry/platform';
import { QueryCommands, type QueryState } from '@quarry/query';
import { RESULT_RELEASED_CHANNEL } from '../held/held-result-keeper';
import { removePersisted, type ResultStore } from '../store/result-store';

/** A client's DELETE of a result: the event first (every node then says it is gone), then the bytes. */
@Injectable()
export class ResultDeletion {
  constructor(
    private readonly queries: QueryCommands,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
  ) {}

  /** `state` is the query as its owner just read it; its holder frees the memory on the NOTIFY. */
  async remove(state: QueryState): Promise<void> {
    const queryHandle = state.handle!;
    await this.queries.execute(
      queryHandle,
      { type: 'DeleteResult', deletedBy: state.userName! },
      { alsoInTransaction: (tx) => tx.query('SELECT pg_notify($1, $2)', [RESULT_RELEASED_CHANNEL, queryHandle]) },
    );
    if (state.persistedResult) await removePersisted(this.store, state.persistedResult);
  }
}
