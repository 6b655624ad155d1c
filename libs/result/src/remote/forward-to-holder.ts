import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';

/** What of the holder's answer goes back to the client: the body's type and size, Lens's error code. */
const PASSED_BACK = ['content-type', 'content-length', 'x-lens-error-code'];

/** The holder's answer, streamed to the client: its status, type, length, Lens error code and body. */
export async function passBack(answer: IncomingMessage, res: Response): Promise<void> {
  res.status(answer.statusCode ?? 502);
  for (const name of PASSED_BACK) {
    const value = answer.headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
  await pipeline(answer, res);
}
