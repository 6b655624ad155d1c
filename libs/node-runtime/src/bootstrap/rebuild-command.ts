import { randomUUID } from 'node:crypto';
import { createPool, PgEventStore, rebuildProjection } from '@quarry/eventstore';
import { loadConfig } from '@quarry/platform';
import { allProjections } from '../services/service-catalog';

/**
 * `rebuild-projection <name>`: empties a projection and replays it from the event store, while
 * the nodes keep running. Prints what it did; exit 2 on an unknown name.
 */
export async function rebuildCommand(args: string[]): Promise<number> {
  const names = allProjections().map((p) => p.name);
  const projection = allProjections().find((p) => p.name === args[0]);
  if (!projection) {
    console.error(`usage: rebuild-projection <${names.join('|')}>`);
    return 2;
  }
  const config = loadConfig();
  const pool = createPool(config.databaseUrl, 2);
  try {
    const store = new PgEventStore(pool, { nodeId: `${config.nodeId}-rebuild`, nodeIncarnation: randomUUID() }, config.topicPrefix);
    const started = Date.now();
    const applied = await rebuildProjection(pool, store, projection);
    console.log(`rebuilt ${projection.name}: ${applied} events applied in ${Date.now() - started} ms`);
    return 0;
  } finally {
    await pool.end();
  }
}
