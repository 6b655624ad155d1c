import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Client, closeClient, credentials, loadPackageDefinition, type ClientReadableStream, type GrpcObject, type MethodDefinition, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { GRPC_LENS_CODE, QUARRY_PROTO_LOADER_OPTIONS, quarryProtoPath } from '@quarry/contracts';

type Unary = (request: unknown, callback: (error: ServiceError | null, answer: unknown) => void) => void;
type Streaming = (request: unknown) => ClientReadableStream<unknown>;

/** A failed quarry.v1 call as a test reads it: the gRPC status, the message, the Lens code from the trailing metadata. */
export interface GrpcFailure {
  code: number;
  details: string;
  lensCode?: number;
  metadata: Metadata;
}

let quarryPackage: GrpcObject | undefined;
function quarryV1(): GrpcObject {
  quarryPackage ??= (loadPackageDefinition(loadSync(quarryProtoPath(), QUARRY_PROTO_LOADER_OPTIONS)).quarry as GrpcObject).v1 as GrpcObject;
  return quarryPackage;
}

type ServiceName = 'SessionService' | 'QueryService' | 'ClusterService';

/** The HTTP/2 receive window of Quarry's own gRPC clients, per stream and per connection. */
export const GRPC_FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;

/** quarry.v1 clients of one node, as @grpc/grpc-js and proto-loader give them, with promises. */
export class QuarryGrpcClient {
  private readonly clients = new Map<ServiceName, Client>();

  constructor(readonly address: string) {}

  private client(service: ServiceName): Client {
    let client = this.clients.get(service);
    if (!client) {
      const Service = quarryV1()[service] as unknown as new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: object) => Client;
      client = new Service(this.address, credentials.createInsecure(), {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        // HTTP/2's default 64 KiB window makes the server wait for a WINDOW_UPDATE every 64 KiB of
        // a FetchResult; a few MiB lets half-MiB batches flow as a download's bytes do (ADR 20).
        'grpc-node.flow_control_window': GRPC_FLOW_CONTROL_WINDOW,
      });
      this.clients.set(service, client);
    }
    return client;
  }

  /** A unary call; a failure rejects with the ServiceError (see failureOf). */
  call<T = Record<string, unknown>>(service: ServiceName, method: string, request: unknown): Promise<T> {
    const client = this.client(service) as unknown as Record<string, Unary>;
    return new Promise((resolve, reject) => client[method].call(client, request, (error, answer) => (error ? reject(error) : resolve(answer as T))));
  }

  /** A server-streaming call's messages, as they come. */
  stream<T = Record<string, unknown>>(service: ServiceName, method: string, request: unknown): ClientReadableStream<T> {
    const client = this.client(service) as unknown as Record<string, Streaming>;
    return client[method].call(client, request) as ClientReadableStream<T>;
  }

  /**
   * A server-streaming call's messages as their bytes, not decoded: for a client that reads only
   * what it needs of each (rowBatchPlaceOf), and `decode`s the ones it wants whole.
   */
  rawStream(service: ServiceName, method: string, request: unknown): ClientReadableStream<Buffer> {
    const { path, requestSerialize } = this.methodOf(service, method);
    return this.client(service).makeServerStreamRequest(path, requestSerialize, (bytes: Buffer) => bytes, request);
  }

  /** A message of `method`'s response type from its bytes, as `stream` would have given it. */
  decode<T = Record<string, unknown>>(service: ServiceName, method: string, bytes: Buffer): T {
    return this.methodOf(service, method).responseDeserialize(bytes) as T;
  }

  private methodOf(service: ServiceName, method: string): MethodDefinition<unknown, unknown> {
    const definition = (this.client(service).constructor as unknown as { service: Record<string, MethodDefinition<unknown, unknown>> }).service[method];
    if (!definition) throw new Error(`quarry.v1.${service} has no method ${method}`);
    return definition;
  }

  close(): void {
    // Client's own close: on SessionService, `close` is the Close rpc (grpc-js adds lower-camel-case names).
    for (const client of this.clients.values()) Client.prototype.close.call(client);
  }
}

/** What a failed call said, or throws when the call did not fail. */
export async function failureOf(call: Promise<unknown>): Promise<GrpcFailure> {
  try {
    await call;
  } catch (error) {
    const e = error as ServiceError;
    const code = e.metadata?.get(GRPC_LENS_CODE)[0];
    return { code: e.code, details: e.details, lensCode: code === undefined ? undefined : Number(code), metadata: e.metadata };
  }
  throw new Error('the call was expected to fail, and succeeded');
}

/** Every message of a server stream, once it ends; a failure rejects with the ServiceError. */
export function collect<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const messages: T[] = [];
    stream.on('data', (m: T) => messages.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(messages));
  });
}

/** The services a server lists through gRPC server reflection (v1), as grpcurl's `list` asks. */
export function listServicesByReflection(address: string): Promise<string[]> {
  const reflectionDir = join(dirname(createRequire(__filename).resolve('@grpc/reflection/package.json')), 'build/proto');
  const definition = loadSync(join(reflectionDir, 'grpc/reflection/v1/reflection.proto'), { keepCase: false, defaults: true, oneofs: true, includeDirs: [reflectionDir] });
  const v1 = ((loadPackageDefinition(definition).grpc as GrpcObject).reflection as GrpcObject).v1 as GrpcObject;
  const Reflection = v1['ServerReflection'] as unknown as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & {
    serverReflectionInfo(): NodeJS.ReadWriteStream & { write(message: unknown): boolean; end(): void };
  };
  const client = new Reflection(address, credentials.createInsecure());
  return new Promise<string[]>((resolve, reject) => {
    const call = client.serverReflectionInfo();
    call.on('data', (answer: { listServicesResponse?: { service: { name: string }[] }; errorResponse?: { errorMessage: string } }) => {
      if (answer.errorResponse) reject(new Error(answer.errorResponse.errorMessage));
      else resolve((answer.listServicesResponse?.service ?? []).map((s) => s.name));
      call.end();
    });
    call.on('error', reject);
    call.write({ listServices: '' });
  }).finally(() => closeClient(client));
}
