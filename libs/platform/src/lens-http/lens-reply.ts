import { chooseMediaType, serialize, type WireMediaType, type WireRoot } from '@quarry/contracts';
import type { Request, Response } from 'express';

/**
 * The one way Lens routes answer: the body in JSON or XML as the Accept header asks (XML when it
 * says nothing, as Lens did), or 406 naming what is offered.
 */
export function reply(req: Request, res: Response, status: number, root: WireRoot): void {
  if (root.kind === 'text') {
    res.status(status).type('text/plain').send(root.value);
    return;
  }
  const mediaType = chooseMediaType(req.headers.accept);
  if (!mediaType) {
    res.status(406).type('text/plain').send(`cannot answer in ${req.headers.accept}; this resource offers application/xml and application/json`);
    return;
  }
  if (root.kind === 'driverRows') return sendUntagged(req, res.status(status), mediaType, serialize(root, mediaType));
  res.status(status).type(mediaType).send(serialize(root, mediaType));
}

/**
 * A page of rows is sent as send() would send it but without Express's weak ETag, a SHA-1 over
 * every ~1 MB page: Lens sent none, no client revalidates a page, and a page a non-holder
 * forwards from its holder never carried one. Without an ETag (or Last-Modified) send() would
 * never answer 304 either.
 */
function sendUntagged(req: Request, res: Response, mediaType: WireMediaType, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.setHeader('Content-Type', `${mediaType}; charset=utf-8`);
  res.setHeader('Content-Length', bytes.length);
  if (req.method === 'HEAD') res.end();
  else res.end(bytes);
}
