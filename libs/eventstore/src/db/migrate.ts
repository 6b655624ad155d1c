import { Client } from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';

type MigrationClass = new () => MigrationInterface;

// Any constant shared by every node: only one node migrates at a time.
const MIGRATION_LOCK = 7_041_998_001;

/**
 * Applies pending TypeORM migrations. Several nodes start at once, so a PostgreSQL advisory lock
 * lets one migrate while the others wait, then find nothing left to do.
 */
export async function runMigrations(databaseUrl: string, migrations: MigrationClass[]): Promise<string[]> {
  const lock = new Client({ connectionString: databaseUrl });
  // A lost connection fails the statement in flight (the caller retries); unheard, it would crash the node.
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const dataSource = new DataSource({
      type: 'postgres',
      url: databaseUrl,
      migrations,
      migrationsTableName: 'quarry_migrations',
      migrationsTransactionMode: 'each',
      synchronize: false,
      logging: false,
    });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations();
      return applied.map((m) => m.name);
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end();
  }
}
