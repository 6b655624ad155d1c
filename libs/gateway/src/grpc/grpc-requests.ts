import type { ServerWritableStream } from '@grpc/grpc-js';
import { LensError, type LensSessionHandle } from '@quarry/contracts';
import type { z } from 'zod';

/** A quarry.v1 request checked against its schema; a ZodError becomes INVALID_ARGUMENT naming the field. */
export function requestOf<S extends z.ZodTypeAny>(schema: S, raw: unknown): z.infer<S> {
  return schema.parse(raw);
}

/** The session a call carries; without one the call is UNAUTHENTICATED (Lens 2001), as REST without a sessionid. */
export function sessionOf(request: { session: LensSessionHandle | null }): LensSessionHandle {
  if (!request.session) throw new LensError('SESSION_ID_NOT_PROVIDED', 'session is required: the handle Open returned');
  return { publicId: request.session.publicId.toLowerCase(), secretId: request.session.secretId.toLowerCase() };
}

/** The client's address, for the failed-login limit: the connection's remote address, without the port. */
export function clientAddressOf(call: { getPeer(): string; getConnectionInfo?(): { remoteAddress?: string } } | undefined): string {
  const remote = call?.getConnectionInfo?.().remoteAddress;
  if (remote) return remote;
  // grpc-js's peer is `address:port` (IPv6 unbracketed): the port is after the last colon.
  const peer = call?.getPeer() ?? 'unknown';
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : peer;
}

/**
 * Writes each message of `source` to a server stream as the client takes them: a message is made
 * only once the one before the last has gone out to the connection (HTTP/2 flow control then
 * bounds what waits), and a client that goes away stops the source. grpc-js's own buffer counts
 * messages, not bytes (16 before write() says wait), too many for batches of thousands of rows.
 */
export async function writeAll<T>(call: ServerWritableStream<unknown, T>, source: AsyncIterable<T>): Promise<void> {
  const left = gone(call);
  let previous: Promise<void> = Promise.resolve();
  try {
    for await (const message of source) {
      if (call.cancelled || call.destroyed) return;
      const sent = new Promise<void>((resolve) => call.write(message, () => resolve()));
      await Promise.race([previous, left.promise]);
      previous = sent;
    }
    await Promise.race([previous, left.promise]);
  } finally {
    left.stop();
  }
}

/** Resolves when the client has gone away (cancelled, or the stream closed). */
function gone(call: ServerWritableStream<unknown, unknown>): { promise: Promise<void>; stop(): void } {
  let done = () => undefined as void;
  const promise = new Promise<void>((resolve) => {
    done = () => {
      stop();
      resolve();
    };
  });
  const stop = () => {
    call.off('cancelled', done);
    call.off('close', done);
  };
  call.once('cancelled', done);
  call.once('close', done);
  if (call.cancelled || call.destroyed) done();
  return { promise, stop };
}
