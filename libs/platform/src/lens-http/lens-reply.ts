import { chooseMediaType, serialize, serializeDriverRows, type DriverRows, type WireMediaType, type WireRoot } from '@quarry/contracts';
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
  if (root.kind === 'driverRows') return sendPage(req, res.status(status), mediaType, root.value);
  res.status(status).type(mediaType).send(serialize(root, mediaType));
}

/**
 * A page of rows is sent as send() would send it but without Express's weak ETag, a SHA-1 over
 * every ~1 MB page: Lens sent none, no client revalidates a page, and a page a non-holder
 * forwards from its holder never carried one. Without an ETag (or Last-Modified) send() would
 * never answer 304 either. The body is encoded piece by piece as it is written (never one ~1 MB
 * string) and goes out in one corked write once its length is known.
 */
function sendPage(req: Request, res: Response, mediaType: WireMediaType, page: DriverRows): void {
  const pieces: Buffer[] = [];
  let length = 0;
  serializeDriverRows(page, mediaType, (text) => {
    const piece = Buffer.from(text, 'utf8');
    pieces.push(piece);
    length += piece.length;
  });
  res.setHeader('Content-Type', `${mediaType}; charset=utf-8`);
  res.setHeader('Content-Length', length);
  if (req.method === 'HEAD') return void res.end();
  res.cork();
  for (const piece of pieces) res.write(piece);
  res.end();
}
