import type { ResourceType } from '@quarry/contracts';

export interface SessionResource {
  type: ResourceType;
  path: string;
  sha256: string;
  sizeBytes: number;
}

/** A session as its events make it; rebuilt by folding `evolve` over its stream. */
export interface SessionState {
  status: 'none' | 'open' | 'closed' | 'expired';
  publicId?: string;
  secretIdSha256?: string;
  userName?: string;
  database?: string;
  params: Record<string, string>;
  resources: SessionResource[];
  openedAt?: string;
  endedAt?: string;
}

export const INITIAL_SESSION: SessionState = { status: 'none', params: {}, resources: [] };

/** A `.sql` resource runs on the driver session before the session's first query. */
export function isInitScript(resource: SessionResource): boolean {
  return resource.path.toLowerCase().endsWith('.sql');
}
