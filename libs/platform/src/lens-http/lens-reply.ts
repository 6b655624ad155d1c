import { chooseMediaType, serialize, type WireRoot } from '@quarry/contracts';
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
  res.status(status).type(mediaType).send(serialize(root, mediaType));
}
