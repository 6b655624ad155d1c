import { Injectable } from '@nestjs/common';
import type { Holder } from './remote-results';

/** Most results remembered; past it the memory starts again (a miss costs only the full way). */
const MAX_KNOWN = 10_000;

/**
 * Which node holds each in-memory result this node has forwarded a page of: a hint, not a fact.
 * The next page goes straight there; the holder checks the session, the owner and the result
 * itself, as for every forwarded page. Any other answer than 200, or none, drops the hint.
 */
@Injectable()
export class KnownHolders {
  private readonly holders = new Map<string, Holder>();

  get(queryHandle: string): Holder | undefined {
    return this.holders.get(queryHandle);
  }

  remember(queryHandle: string, holder: Holder): void {
    if (this.holders.size >= MAX_KNOWN) this.holders.clear();
    this.holders.set(queryHandle, { nodeId: holder.nodeId, url: holder.url });
  }

  forget(queryHandle: string): void {
    this.holders.delete(queryHandle);
  }
}
