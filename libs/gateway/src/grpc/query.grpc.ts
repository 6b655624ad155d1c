import type { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcFetchResultSchema, GrpcListQueriesSchema, GrpcQueryRequestSchema, GrpcSubmitSchema, LensError, type LensQuery } from '@quarry/contracts';
import { CONF, QUERY_STATUSES, QueryListing, QueryService, toLensQuery, type QueryView } from '@quarry/query';
import { EMPTY } from 'rxjs';
import { GrpcErrorsFilter } from './grpc-errors.filter';
import { requestOf, sessionOf, writeAll } from './grpc-requests';
import { ResultBatches } from './result-batches';

/** quarry.v1.QueryService: the query and result use cases of the REST API, through gRPC. */
@Controller()
@UseFilters(GrpcErrorsFilter)
export class QueryGrpcController {
  constructor(
    private readonly queries: QueryService,
    private readonly listing: QueryListing,
    private readonly results: ResultBatches,
  ) {}

  @GrpcMethod('QueryService', 'Submit')
  async submit(raw: unknown) {
    const request = requestOf(GrpcSubmitSchema, raw);
    const session = sessionOf(request);
    const query = request.query.trim();
    if (!query) throw new LensError('NULL_OR_EMPTY_OR_BLANK_QUERY', 'the query is empty');
    const conf = { ...request.conf, ...(request.requestId && { [CONF.requestId]: request.requestId }) };
    return { queryHandle: await this.queries.submit(session, { query, conf, queryName: request.queryName }) };
  }

  @GrpcMethod('QueryService', 'Get')
  async get(raw: unknown) {
    const request = requestOf(GrpcQueryRequestSchema, raw);
    const lens = toLensQuery(await this.queries.get(sessionOf(request), request.queryHandle.toLowerCase()));
    return {
      queryHandle: lens.queryHandle.handleId,
      userQuery: lens.userQuery,
      user: lens.submittedUser,
      priority: lens.priority,
      persistent: lens.isPersistent,
      driver: lens.selectedDriverName ?? '',
      queryName: lens.queryName ?? '',
      status: statusOf(lens),
      conf: lens.queryConf,
      submissionTime: lens.submissionTime,
      launchTime: lens.launchTime,
      finishTime: lens.finishTime,
    };
  }

  @GrpcMethod('QueryService', 'Watch')
  async watch(raw: unknown, _metadata: Metadata, call: ServerWritableStream<unknown, unknown>) {
    const request = requestOf(GrpcQueryRequestSchema, raw);
    const changes = this.queries.watch(sessionOf(request), request.queryHandle.toLowerCase(), () => call.cancelled);
    await writeAll(call, statuses(changes));
    return EMPTY;
  }

  @GrpcMethod('QueryService', 'Cancel')
  async cancel(raw: unknown) {
    const request = requestOf(GrpcQueryRequestSchema, raw);
    await this.queries.cancel(sessionOf(request), request.queryHandle.toLowerCase());
    return {};
  }

  @GrpcMethod('QueryService', 'List')
  async list(raw: unknown) {
    const request = requestOf(GrpcListQueriesSchema, raw);
    const session = sessionOf(request);
    const states = request.states.map((s) => s.trim().toUpperCase()).filter(Boolean);
    const unknown = states.filter((s) => !(QUERY_STATUSES as readonly string[]).includes(s));
    if (unknown.length) throw new LensError('INVALID_PARAMETER_VALUE', `unknown state ${unknown.join(', ')}`);
    const { userName } = await this.queries.owner(session);
    const queryHandles = await this.listing.handles({
      userName,
      states: states.length ? states : undefined,
      queryName: request.queryName || undefined,
      driver: request.driver || undefined,
      fromDate: request.fromTime ? new Date(request.fromTime) : undefined,
      toDate: request.toTime ? new Date(request.toTime) : undefined,
    });
    return { queryHandles };
  }

  @GrpcMethod('QueryService', 'FetchResult')
  async fetchResult(raw: unknown, _metadata: Metadata, call: ServerWritableStream<unknown, unknown>) {
    const request = requestOf(GrpcFetchResultSchema, raw);
    const batches = this.results.batches({
      session: sessionOf(request),
      queryHandle: request.queryHandle.toLowerCase(),
      from: request.fromIndex,
      size: request.batchSize || undefined,
    });
    await writeAll(call, batches);
    return EMPTY;
  }
}

async function* statuses(views: AsyncIterable<QueryView>) {
  for await (const view of views) yield statusOf(toLensQuery(view), view.state.attempt);
}

function statusOf(lens: LensQuery, attempt?: number) {
  const { status } = lens;
  return {
    queryHandle: lens.queryHandle.handleId,
    status: status.status,
    progress: status.progress ?? 0,
    statusMessage: status.statusMessage ?? '',
    errorMessage: status.errorMessage ?? '',
    resultAvailable: status.isResultSetAvailable ?? false,
    queueNumber: status.queueNumber ?? 0,
    attempt: attempt ?? 0,
  };
}
