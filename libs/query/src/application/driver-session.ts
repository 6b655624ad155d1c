import { createHash } from 'node:crypto';
import type { DriverSessionSpec } from '@quarry/drivers';
import { isInitScript, type SessionState } from '@quarry/session';
import type { Pool } from 'pg';

/**
 * What a driver needs of a Quarry session: its database and resources, with the bytes of its
 * `.sql` init scripts from the blob store, so any node can prepare the driver session.
 */
export async function driverSessionFor(session: SessionState, pool: Pool): Promise<DriverSessionSpec> {
  const scripts = session.resources.filter(isInitScript);
  const blobs = new Map<string, Buffer>();
  if (scripts.length > 0) {
    const { rows } = await pool.query<{ sha256: string; content: Buffer }>('SELECT sha256, content FROM session_resource_blobs WHERE sha256 = ANY($1::text[])', [
      scripts.map((r) => r.sha256),
    ]);
    for (const row of rows) blobs.set(row.sha256, row.content);
  }
  const resourcesVersion = createHash('sha256')
    .update(session.resources.map((r) => `${r.type}:${r.path}:${r.sha256}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  return {
    sessionId: session.publicId!,
    user: session.userName,
    resourcesVersion,
    database: session.database!,
    resources: session.resources.map((r) => ({ type: r.type, path: r.path, sha256: r.sha256, content: blobs.get(r.sha256) })),
  };
}
