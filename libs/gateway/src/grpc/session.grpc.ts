import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import {
  GrpcAddResourceSchema,
  GrpcGetParamsSchema,
  GrpcListResourcesSchema,
  GrpcOpenSessionSchema,
  GrpcSessionOnlySchema,
  GrpcSetParamSchema,
  LensError,
} from '@quarry/contracts';
import { resourceTypeOf, SessionService } from '@quarry/session';
import { clientAddressOf, requestOf, sessionOf } from './grpc-requests';
import { GrpcErrorsFilter } from './grpc-errors.filter';

/** quarry.v1.SessionService: the session use cases of the REST API, through gRPC. */
@Controller()
@UseFilters(GrpcErrorsFilter)
export class SessionGrpcController {
  constructor(private readonly sessions: SessionService) {}

  @GrpcMethod('SessionService', 'Open')
  async open(raw: unknown, _metadata: Metadata, call: ServerUnaryCall<unknown, unknown>) {
    const request = requestOf(GrpcOpenSessionSchema, raw);
    if (request.user.trim() === '') throw new LensError('MISSING_PARAMETERS', 'user is required');
    const session = await this.sessions.open({
      userName: request.user,
      password: request.password,
      database: request.database || undefined,
      conf: request.conf,
      clientAddress: clientAddressOf(call),
    });
    return { session };
  }

  @GrpcMethod('SessionService', 'Close')
  async close(raw: unknown) {
    await this.sessions.close(sessionOf(requestOf(GrpcSessionOnlySchema, raw)));
    return {};
  }

  @GrpcMethod('SessionService', 'SetParam')
  async setParam(raw: unknown) {
    const request = requestOf(GrpcSetParamSchema, raw);
    const session = sessionOf(request);
    if (request.key.trim() === '') throw new LensError('MISSING_PARAMETERS', 'key is required');
    await this.sessions.setParam(session, request.key, request.value);
    return {};
  }

  @GrpcMethod('SessionService', 'GetParams')
  async getParams(raw: unknown) {
    const request = requestOf(GrpcGetParamsSchema, raw);
    const lines = await this.sessions.params(sessionOf(request), request.key || undefined, request.verbose);
    return { params: lines.map((line) => splitAt(line, '=')).map(([key, value]) => ({ key, value })) };
  }

  @GrpcMethod('SessionService', 'AddResource')
  async addResource(raw: unknown) {
    const request = requestOf(GrpcAddResourceSchema, raw);
    const session = sessionOf(request);
    if (!request.resource?.path) throw new LensError('MISSING_PARAMETERS', 'resource.path is required');
    await this.sessions.addResource(session, resourceTypeOf(request.resource.type), request.resource.path);
    return {};
  }

  @GrpcMethod('SessionService', 'ListResources')
  async listResources(raw: unknown) {
    const request = requestOf(GrpcListResourcesSchema, raw);
    const session = sessionOf(request);
    const lines = await this.sessions.listResources(session, request.type ? resourceTypeOf(request.type) : undefined);
    return { resources: lines.map((line) => splitAt(line, ':')).map(([type, path]) => ({ type, path })) };
  }
}

/** `key=value` (or `type:path`) as the use case lists it, cut at the first separator. */
function splitAt(line: string, separator: string): [string, string] {
  const at = line.indexOf(separator);
  return [line.slice(0, at), line.slice(at + 1)];
}
