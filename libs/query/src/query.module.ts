import { Module } from '@nestjs/common';

/**
 * The query-lifecycle service. It owns the query aggregate and the Lens state machine; its API and projection land with the queries issue.
 * Running it today puts the service on this node's /health list and in its NodeJoined event.
 */
@Module({})
export class QueryModule {}
