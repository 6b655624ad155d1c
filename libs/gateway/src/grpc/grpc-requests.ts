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

/** The client's address, for the failed-login limit: grpc-js's peer, `host:port`, without the port. */
export function clientAddressOf(call: { getPeer(): string } | undefined): string {
  const peer = call?.getPeer() ?? 'unknown';
  const ipv6 = /^\[(.*)\]:\d+$/.exec(peer);
  if (ipv6) return ipv6[1];
  const colon = peer.lastIndexOf(':');
  return colon > 0 && peer.indexOf(':') === colon ? peer.slice(0, colon) : peer;
}

/**
 * Writes each message of `source` to a server stream as the client takes them: the next one is
 * made only once the stream has room (back-pressure), and a client that goes away stops the source.
 */
export async function writeAll<T>(call: ServerWritableStream<unknown, T>, source: AsyncIterable<T>): Promise<void> {
  for await (const message of source) {
    if (call.cancelled || call.destroyed) return;
    if (!call.write(message)) await roomOrGone(call);
  }
}

function roomOrGone(call: ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}
