import type { Server } from '@grpc/grpc-js';
import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { encodeRowBatch, QUARRY_GRPC_PACKAGE, QUARRY_PROTO_LOADER_OPTIONS, quarryProtoPath } from '@quarry/contracts';
import type { QuarryConfig } from '@quarry/platform';
import type { OutgoingBatch } from './result-batches';

/** A FetchResult batch is ~0.5 MiB, or ~1-2 MB at 10,000 wide rows: room for them, not for anything unbounded. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * The gRPC server of a node running the gateway: quarry.v1 on QUARRY_GRPC_PORT (same host as HTTP),
 * with the server reflection service (v1 and v1alpha) so that grpcurl and the like can list it.
 */
export function grpcServerOptions(config: QuarryConfig): GrpcOptions {
  const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  return {
    transport: Transport.GRPC,
    options: {
      url: `${host}:${config.grpcPort}`,
      package: QUARRY_GRPC_PACKAGE,
      protoPath: quarryProtoPath(),
      loader: { ...QUARRY_PROTO_LOADER_OPTIONS },
      maxSendMessageLength: MAX_MESSAGE_BYTES,
      maxReceiveMessageLength: 4 * 1024 * 1024,
      onLoadPackageDefinition: (definition: PackageDefinition, server: Pick<Server, 'addService'>) => {
        // Row batches are written by hand (row-batch-encoder: protobufjs spends most of FetchResult's
        // CPU), or were encoded once when the result was persisted and pass through as they are.
        const fetchResult = (definition['quarry.v1.QueryService'] as Record<string, MethodDefinition<unknown, OutgoingBatch>>)['FetchResult'];
        fetchResult.responseSerialize = (batch) => (Buffer.isBuffer(batch) ? batch : encodeRowBatch(batch));
        new ReflectionService(definition).addToServer(server);
      },
    },
  };
}
